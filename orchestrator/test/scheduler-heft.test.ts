import { describe, expect, it } from 'vitest';
import { Scheduler, type SchedTask } from '../src/scheduler/index.js';
import { dev } from './support/sched-fixtures.js';


let n = 0;
const task = (o: Partial<SchedTask> = {}): SchedTask => {
  const taskId = `t${n++}`;
  return { key: `c/${taskId}`, constellationId: 'c', owner: 'o', taskId, target: {}, priority: 0, kind: 'shell:build', readySince: n, ...o };
};

describe('scheduler HEFT placement', () => {
  it('learns which device is faster for a kind and prefers it', () => {
    const s = new Scheduler({ weights: { waitForFaster: false } });
    s.upsertDevice(dev('slow'));
    s.upsertDevice(dev('fast'));
    // Warm-up: both get work; the fast one reports shorter runtimes.
    for (let i = 0; i < 3; i++) {
      s.enqueue(task());
      s.enqueue(task());
      const ps = s.schedule(i);
      expect(ps).toHaveLength(2);
      for (const p of ps) s.release(p.key, p.deviceId, p.deviceId === 'fast' ? 100 : 400);
    }
    expect(s.estimateRuntime('fast', 'shell:build')).toBeCloseTo(100);
    expect(s.estimateRuntime('slow', 'shell:build')).toBeCloseTo(400);
    s.enqueue(task());
    const [p] = s.schedule(10);
    expect(p?.deviceId).toBe('fast');
    expect(p?.explanation.parts.estRuntimeMs).toBeCloseTo(100);
    expect(p?.explanation.candidates).toBe(2);
    expect(p?.explanation.reason).toContain('earliest estimated finish on fast');
  });

  it('estimates an unseen kind on a device from its speed on other kinds', () => {
    const s = new Scheduler();
    s.observeRuntime('a', 'k1', 100);
    s.observeRuntime('b', 'k1', 300); // b is 3x slower than a on k1
    s.observeRuntime('a', 'k2', 50);
    expect(s.estimateRuntime('b', 'k2')).toBeCloseTo(150);
    expect(s.estimateRuntime('zzz', 'never-seen')).toBe(1000);
  });

  it('tries every device once for a new kind, then settles on the fastest', () => {
    const speed: Record<string, number> = { a: 1, b: 1, c: 2, d: 4 };
    const s = new Scheduler();
    for (const id of Object.keys(speed)) s.upsertDevice(dev(id));
    const used: string[] = [];
    for (let i = 0; i < 8; i++) {
      s.enqueue(task({ kind: 'step' }));
      const [p] = s.schedule(i);
      expect(p).toBeDefined();
      used.push(p!.deviceId);
      s.release(p!.key, p!.deviceId, 1000 / speed[p!.deviceId]!);
    }
    expect(new Set(used.slice(0, 4))).toEqual(new Set(['a', 'b', 'c', 'd']));
    expect(used.slice(4)).toEqual(['d', 'd', 'd', 'd']);
  });

  it('estimates an unseen estimate class from its executor kind on that device', () => {
    const s = new Scheduler();
    s.observeRuntime('a', 'shell:lint', 100);
    s.observeRuntime('b', 'shell:lint', 400);
    s.observeRuntime('a', 'shell:test', 300);
    expect(s.estimateRuntime('a', 'shell:build')).toBeCloseTo(200); // a's mean over shell:*
    expect(s.estimateRuntime('b', 'shell:build')).toBeCloseTo(400);
    expect(s.estimateRuntime('b', 'shell:test')).toBeGreaterThan(s.estimateRuntime('a', 'shell:test'));
  });

  it('waits for a busy fast device when that finishes sooner, and says so', () => {
    let now = 0;
    const s = new Scheduler({ now: () => now });
    s.upsertDevice(dev('slow'));
    s.upsertDevice(dev('fast'));
    s.observeRuntime('slow', 'shell:build', 1000);
    s.observeRuntime('fast', 'shell:build', 100);
    const a = task();
    const b = task();
    s.enqueue(a);
    s.enqueue(b);
    const ps = s.schedule(0);
    expect(ps.map((p) => [p.key, p.deviceId])).toEqual([[a.key, 'fast']]);
    expect(s.waitingReason(b.key, 0)).toBe('waiting for faster device fast (expected free in 100 ms)');
    expect(s.nextWakeAt()).toBe(100);
    now = 60;
    s.release(a.key, 'fast', 60);
    expect(s.schedule(60).map((p) => [p.key, p.deviceId])).toEqual([[b.key, 'fast']]);
  });

  it('stops waiting for a device whose task overran its estimate', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('slow'));
    s.upsertDevice(dev('fast'));
    s.observeRuntime('slow', 'shell:build', 1000);
    s.observeRuntime('fast', 'shell:build', 100);
    s.enqueue(task());
    expect(s.schedule(0)[0]?.deviceId).toBe('fast');
    const b = task();
    s.enqueue(b);
    expect(s.schedule(50)).toEqual([]);
    expect(s.schedule(150).map((p) => p.deviceId)).toEqual(['slow']);
  });

  it('adds input transfer cost: prefers the device that already holds the inputs', () => {
    const s = new Scheduler({ weights: { bandwidthBytesPerMs: 1000 } });
    s.upsertDevice(dev('a'));
    s.upsertDevice(dev('b'));
    s.enqueue(task({ inputBytesByDevice: { b: 500_000, a: 100_000 } }));
    const [p] = s.schedule(0);
    expect(p?.deviceId).toBe('b');
    expect(p?.explanation.parts.transferMs).toBeCloseTo(100);
    expect(p?.explanation.reason).toContain('input transfer');
  });

  it('spreads equal work by load, deterministically', () => {
    const run = () => {
      const s = new Scheduler({ weights: { waitForFaster: false } });
      for (const id of ['a', 'b', 'c']) s.upsertDevice(dev(id, { slots: 2 }));
      for (let i = 0; i < 6; i++) s.enqueue(task({ readySince: i, taskId: `x${i}`, key: `c/x${i}` }));
      return s.schedule(0).map((p) => p.deviceId);
    };
    const first = run();
    expect(first).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(run()).toEqual(first);
  });

  it('flags stragglers that run far beyond their estimate', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 2 }));
    s.observeRuntime('a', 'shell:build', 1000);
    s.enqueue(task({ key: 'c/s1' }));
    s.enqueue(task({ key: 'c/s2' }));
    s.schedule(0);
    s.release('c/s2', 'a', 900);
    expect(s.stragglers(2000)).toEqual([]);
    expect(s.stragglers(3500)).toEqual(['c/s1']);
  });

  it('prefers the longer remaining path (rank) among equals', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a'));
    s.enqueue(task({ key: 'c/short', rank: 10, readySince: 0 }));
    s.enqueue(task({ key: 'c/long', rank: 500, readySince: 1 }));
    expect(s.schedule(0).map((p) => p.key)).toEqual(['c/long']);
  });
});

describe('scheduler bounded work per round', () => {
  it('lets at most one task per busy slot wait for a faster device in a round', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('slow', { slots: 4 }));
    s.upsertDevice(dev('fast'));
    s.observeRuntime('slow', 'tiny', 10);
    s.observeRuntime('fast', 'tiny', 0);
    s.enqueue(task({ kind: 'tiny', key: 'c/first' }));
    expect(s.schedule(0).map((p) => p.deviceId)).toEqual(['fast']);
    for (let i = 0; i < 50; i++) s.enqueue(task({ kind: 'tiny', key: `c/n${i}` }));
    // The fast device is busy but due now: one task waits for it, the free slow slots take four.
    const ps = s.schedule(0);
    expect(ps.map((p) => p.deviceId)).toEqual(['slow', 'slow', 'slow', 'slow']);
    expect(s.stats().queued).toBe(46);
  });

  it('samples a seeded window when more free devices match than maxCandidates', () => {
    const run = (seed: number) => {
      let x = seed;
      const random = () => {
        x = (x * 16807) % 2147483647;
        return x / 2147483647;
      };
      const s = new Scheduler({ random, weights: { maxCandidates: 8 } });
      for (let i = 0; i < 100; i++) s.upsertDevice(dev(`d${String(i).padStart(3, '0')}`, { slots: 1 }));
      for (let i = 0; i < 30; i++) s.enqueue(task({ key: `c/w${i}` }));
      const ps = s.schedule(0);
      expect(ps.every((p) => p.explanation.candidates === 8)).toBe(true);
      return ps.map((p) => p.deviceId);
    };
    const a = run(1);
    expect(a).toHaveLength(30);
    expect(new Set(a).size).toBe(30);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
  });
});
