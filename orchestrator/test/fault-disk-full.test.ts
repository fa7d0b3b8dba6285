// Fault injection (quick subset of scripts/fault): the disk under the
// journal fills up while a graph runs. The data dir lives on a real 16 MiB
// tmpfs, so SQLite meets a real ENOSPC; that needs the right to mount
// (root or CAP_SYS_ADMIN), else the suite says why and skips.
// (orchestrator/test/store-disk-full.test.ts covers the store itself
// portably, with PRAGMA max_page_count.)
import { describe, expect, it } from 'vitest';
import type { ScenarioReport } from '../../scripts/fault/lib.js';
import { diskFullScenario } from '../../scripts/fault/scenarios/disk-full.js';
import { tmpfsSupport } from '../../scripts/fault/tmpfs.js';

const support = tmpfsSupport();
if (!support.ok) console.warn(`fault-disk-full: skipped: ${support.why}`);

describe.skipIf(!support.ok)('fault: disk full', () => {
  let r: ScenarioReport | undefined;

  it('degrades, refuses writes with STORE_UNAVAILABLE, holds results, corrupts nothing and recovers by itself', async () => {
    r = await diskFullScenario({ quick: true });
    expect(r.facts.degraded).toMatch(/journal not writable/);
    expect(r.facts.secondSubmit).toBe('503 STORE_UNAVAILABLE');
    expect(r.facts.readableWhileFull).toBe(true);
    expect(r.facts.integrity).toBe('ok');
    expect(r.facts.sameBefore).toBe(true);
    expect(r.facts.duringAfterRestart).toBe('succeeded');
    expect(r.finalStates).toEqual({ succeeded: 10 });
    expect(r.executions).toBe(10);
    expect(r.duplicated).toEqual([]);
  });

  it('answers the submission that meets the full disk 202 held, and stores it once space returns', () => {
    expect(r?.facts.firstSubmit).toBe('202 durability=held');
    expect(r?.facts.lateSubmitted).toBe(true);
  });
});
