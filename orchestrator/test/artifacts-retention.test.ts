// Artifact retention: referenced blobs stay, unreferenced ones go least
// recently used first while the store is over its cap, recent ones are spared.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ArtifactHub } from '../src/artifacts/artifact-hub.js';
import { planEviction } from '../src/artifacts/retention.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const blob = (digest: string, size: number, usedAt: number) => ({ digest, size, usedAt });
const HOUR = 3600_000;

describe('planEviction', () => {
  const now = 100 * HOUR;
  const blobs = [
    blob('a', 40, now - 10 * HOUR),
    blob('b', 40, now - 5 * HOUR),
    blob('c', 40, now - 8 * HOUR),
    blob('d', 40, now - 60_000),
  ];

  it('removes nothing under the cap', () => {
    expect(planEviction(blobs, new Set(), { maxStoreBytes: 160, graceMs: HOUR }, now).remove).toEqual([]);
  });

  it('removes unreferenced blobs, oldest use first, until under the cap', () => {
    const plan = planEviction(blobs, new Set(), { maxStoreBytes: 90, graceMs: HOUR }, now);
    expect(plan.remove.map((b) => b.digest)).toEqual(['a', 'c']);
    expect(plan.afterBytes).toBe(80);
  });

  it('never removes referenced or recently used blobs, even if the cap stays exceeded', () => {
    const plan = planEviction(blobs, new Set(['a', 'b']), { maxStoreBytes: 10, graceMs: HOUR }, now);
    expect(plan.remove.map((b) => b.digest)).toEqual(['c']);
    expect(plan.afterBytes).toBe(120);
  });
});

describe('ArtifactHub.collectGarbage on a real store', () => {
  it('evicts by the policy and keeps what a constellation references', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'orrery-gc-'));
    dirs.push(dataDir);
    const referenced = new Set<string>();
    const hub = new ArtifactHub({
      dataDir,
      logger: pino({ level: 'silent' }),
      retention: { maxStoreBytes: 250_000, graceMs: HOUR },
      referenced: () => referenced,
    });
    const digests: string[] = [];
    for (let i = 0; i < 4; i++) {
      const src = path.join(dataDir, `f${i}`);
      writeFileSync(src, randomBytes(100_000));
      const r = await hub.store.importFile(src);
      digests.push(r.digest);
      // Last used i+2 hours ago: f3 is the oldest.
      const t = new Date(Date.now() - (i + 2) * HOUR);
      utimesSync(hub.store.pathOf(r.digest), t, t);
    }
    referenced.add(digests[3] as string);
    const r = hub.collectGarbage();
    hub.close();
    // 400 kB stored, cap 250 kB: f3 is the oldest but referenced, so f2 and f1 go.
    expect(r).toEqual({ removed: 2, freedBytes: 200_000, storedBytes: 200_000 });
    expect(digests.map((d) => hub.store.has(d))).toEqual([true, false, false, true]);
  });
});

describe('artifact garbage collection timer', () => {
  it('logs a failing periodic collection instead of throwing out of the timer (which would crash the orchestrator)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'orrery-gc-'));
    dirs.push(dir);
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    vi.useFakeTimers({ toFake: ['setInterval', 'setImmediate', 'setTimeout'] });
    try {
      const hub = new ArtifactHub({
        dataDir: dir,
        logger,
        referenced: () => {
          throw new Error('database is locked');
        },
      });
      expect(() => vi.advanceTimersByTime(10 * 60 * 1000 + 10)).not.toThrow();
      hub.close();
    } finally {
      vi.useRealTimers();
    }
    expect(warnings.filter((w) => w.includes('artifact garbage collection failed')).length).toBeGreaterThanOrEqual(2);
  });
});
