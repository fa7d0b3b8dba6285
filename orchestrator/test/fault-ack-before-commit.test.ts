// Fault injection (scripts/fault scenario e2): the disk under the journal is
// full, tasks finish, and the orchestrator is SIGKILLed before space returns.
// Needs the right to mount a tmpfs (root or CAP_SYS_ADMIN), else skipped.
import { describe, expect, it } from 'vitest';
import { diskFullCrashScenario } from '../../scripts/fault/scenarios/disk-full-crash.js';
import { tmpfsSupport } from '../../scripts/fault/tmpfs.js';

const support = tmpfsSupport();
if (!support.ok) console.warn(`fault-ack-before-commit: skipped: ${support.why}`);

describe.skipIf(!support.ok)('fault: results received while the journal cannot be written', () => {
  // The orchestrator acknowledges an agent's message only after the tick that
  // applied it is committed (AipServer holdAcks + Engine.flush), so a Result
  // that arrives while the journal cannot be written stays in the agent's
  // outbox and survives an orchestrator crash.
  it('keeps results that arrived while the disk was full across an orchestrator crash: every task ran once', async () => {
    const r = await diskFullCrashScenario({ quick: true });
    expect(r.finalStates).toEqual({ succeeded: 3 });
    expect(r.executions).toBe(3);
  });
});
