import { describe, expect, it } from 'vitest';
import { Scheduler, type SchedTask } from '../src/scheduler/index.js';
import { dev } from './support/sched-fixtures.js';


const task = (constellationId: string, taskId: string, o: Partial<SchedTask> = {}): SchedTask => ({
  key: `${constellationId}/${taskId}`,
  constellationId,
  owner: 'alice',
  taskId,
  target: {},
  priority: 0,
  kind: 'shell',
  readySince: 0,
  ...o,
});

/** Runs rounds of: schedule, then release everything placed (no-op tasks). Returns keys in placement order. */
function drain(s: Scheduler, rounds: number, startAt = 0): string[][] {
  const out: string[][] = [];
  for (let r = 0; r < rounds; r++) {
    const ps = s.schedule(startAt + r);
    out.push(ps.map((p) => p.key));
    for (const p of ps) s.release(p.key, p.deviceId, 1);
  }
  return out;
}

describe('scheduler ordering', () => {
  it('places higher priority first, then FIFO by readySince', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a'));
    s.enqueue(task('c', 'low', { priority: 0, readySince: 1 }));
    s.enqueue(task('c', 'late-high', { priority: 5, readySince: 3 }));
    s.enqueue(task('c', 'early-high', { priority: 5, readySince: 2 }));
    s.enqueue(task('c', 'mid', { priority: 2, readySince: 0 }));
    expect(drain(s, 4).flat()).toEqual(['c/early-high', 'c/late-high', 'c/mid', 'c/low']);
  });

  it('priority beats fair share across constellations', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a'));
    for (let i = 0; i < 5; i++) s.enqueue(task('big', `t${i}`, { priority: 1, readySince: i }));
    s.enqueue(task('small', 'x', { priority: 0, readySince: 100 }));
    expect(drain(s, 6).flat().at(-1)).toBe('small/x');
  });

  it('does not let a 10,000-task constellation starve a 5-task one enqueued after it', () => {
    const s = new Scheduler({ random: () => 0.5 });
    s.upsertDevice(dev('a', { slots: 2 }));
    s.upsertDevice(dev('b', { slots: 2 }));
    for (let i = 0; i < 10_000; i++) s.enqueue(task('big', `t${i}`, { readySince: i }));
    for (let i = 0; i < 5; i++) s.enqueue(task('small', `s${i}`, { owner: 'bob', readySince: 20_000 + i }));
    const rounds = drain(s, 5);
    const smallPlacedBy = rounds.findIndex((_r, i) => rounds.slice(0, i + 1).flat().filter((k) => k.startsWith('small/')).length === 5);
    expect(smallPlacedBy).toBeGreaterThanOrEqual(0);
    expect(smallPlacedBy).toBeLessThanOrEqual(3);
    expect(s.stats().queued).toBe(10_000 - (20 - 5));
  });

  it('shares fairly between two constellations of the same owner', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 4 }));
    for (let i = 0; i < 100; i++) s.enqueue(task('x', `t${i}`, { readySince: i }));
    for (let i = 0; i < 100; i++) s.enqueue(task('y', `t${i}`, { readySince: 1000 + i }));
    const first = drain(s, 5).flat();
    const xs = first.filter((k) => k.startsWith('x/')).length;
    expect(xs).toBe(10);
    expect(first.length).toBe(20);
  });

  it('honours weights: a constellation with weight 3 gets about three times the share', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 4 }));
    s.setShareWeight('constellation', 'x', 3);
    for (let i = 0; i < 200; i++) s.enqueue(task('x', `t${i}`));
    for (let i = 0; i < 200; i++) s.enqueue(task('y', `t${i}`));
    const placed = drain(s, 20).flat();
    const xs = placed.filter((k) => k.startsWith('x/')).length;
    expect(xs).toBeGreaterThanOrEqual(58);
    expect(xs).toBeLessThanOrEqual(62);
  });

  it('raises urgency as a deadline approaches', () => {
    const s = new Scheduler({ weights: { deadlineWindowMs: 1000, deadlineBoost: 10, defaultRuntimeMs: 100 } });
    s.upsertDevice(dev('a'));
    s.enqueue(task('c', 'normal', { priority: 3, readySince: 0 }));
    s.enqueue(task('c', 'due', { priority: 0, readySince: 5, deadline: 10_000 }));
    // Far from the deadline: priority wins.
    expect(drain(s, 1, 0).flat()).toEqual(['c/normal']);
    s.enqueue(task('c', 'normal2', { priority: 3, readySince: 6 }));
    // Slack below the window: boosted above priority 3.
    expect(drain(s, 1, 9_500).flat()).toEqual(['c/due']);
  });

  it('respects retry backoff (notBefore) and wakes at its end', () => {
    const s = new Scheduler({ now: () => 0 });
    s.upsertDevice(dev('a'));
    s.enqueue(task('c', 'retry', { notBefore: 500 }));
    expect(s.schedule(100)).toEqual([]);
    expect(s.nextWakeAt()).toBe(500);
    expect(s.schedule(500).map((p) => p.key)).toEqual(['c/retry']);
  });

  it('removes, replaces and rejects double placement', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a'));
    s.enqueue(task('c', 'x'));
    s.enqueue(task('c', 'y'));
    expect(s.remove('c/x')).toBe(true);
    expect(s.has('c/x')).toBe(false);
    s.enqueue(task('c', 'y', { priority: 9 })); // replace
    expect(s.stats().queued).toBe(1);
    const [p] = s.schedule(0);
    expect(p?.key).toBe('c/y');
    expect(() => s.enqueue(task('c', 'y'))).toThrowError(expect.objectContaining({ code: 'SCHED_ALREADY_PLACED' }));
    expect(s.release('c/y', 'other-device')).toBe(false);
    expect(s.release('c/y', 'a')).toBe(true);
    expect(s.release('c/y', 'a')).toBe(false);
  });

  it('hands back the tasks of a removed device and never places there again', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 2 }));
    s.enqueue(task('c', 'x'));
    s.enqueue(task('c', 'y'));
    expect(s.schedule(0)).toHaveLength(2);
    expect(s.removeDevice('a').sort()).toEqual(['c/x', 'c/y']);
    s.enqueue(task('c', 'x'));
    expect(s.schedule(1)).toEqual([]);
    expect(s.stats()).toMatchObject({ queued: 1, placed: 0, devices: 0, freeSlots: 0 });
  });

  it('counts recovered running tasks against slots', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 1 }));
    s.markRunning({ key: 'c/old', constellationId: 'c', owner: 'alice', kind: 'shell' }, 'a', 0);
    s.enqueue(task('c', 'new'));
    expect(s.schedule(1)).toEqual([]);
    s.release('c/old', 'a', 10);
    expect(s.schedule(2).map((p) => p.key)).toEqual(['c/new']);
  });

  it('shares between owners first, then between their constellations', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 4 }));
    // alice has three graphs, bob one: bob still gets half.
    for (const c of ['a1', 'a2', 'a3']) for (let i = 0; i < 50; i++) s.enqueue(task(c, `t${i}`, { owner: 'alice' }));
    for (let i = 0; i < 50; i++) s.enqueue(task('b1', `t${i}`, { owner: 'bob' }));
    const placed = drain(s, 10).flat();
    expect(placed).toHaveLength(40);
    expect(placed.filter((k) => k.startsWith('b1/'))).toHaveLength(20);
    for (const c of ['a1/', 'a2/', 'a3/']) {
      const n = placed.filter((k) => k.startsWith(c)).length;
      expect(n).toBeGreaterThanOrEqual(6);
      expect(n).toBeLessThanOrEqual(7);
    }
  });

  it('explains each placement with its score parts and ordering inputs', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 2 }));
    s.upsertDevice(dev('b', { slots: 2, status: 'draining' }));
    s.observeRuntime('a', 'shell', 250);
    s.enqueue(task('c', 'x', { priority: 3 }));
    const [p] = s.schedule(0);
    expect(p?.explanation).toEqual({
      reason: 'earliest estimated finish on a: ~250 ms run, 0/2 slots busy before; 1 free of 1 matching devices',
      score: 250,
      parts: {
        estRuntimeMs: 250,
        transferMs: 0,
        loadPenalty: 0,
        estFinishMs: 250,
        priority: 3,
        priorityBoost: 0,
        fairShare: 0,
        ownerShare: 0,
        rank: 0,
      },
      candidates: 1,
    });
  });

  it('says when a backoff is over but no round has run yet', () => {
    const s = new Scheduler({ now: () => 0 });
    s.upsertDevice(dev('a'));
    s.enqueue(task('c', 'r', { notBefore: 10 }));
    expect(s.waitingReason('c/r', 5)).toBe(`waiting for retry backoff until ${new Date(10).toISOString()}`);
    expect(s.waitingReason('c/r', 20)).toBe('retry backoff over; placed at the next scheduling round');
    expect(s.schedule(20)).toHaveLength(1);
  });
});
