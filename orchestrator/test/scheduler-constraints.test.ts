import { describe, expect, it } from 'vitest';
import { type SchedDevice, Scheduler, type SchedTarget, type SchedTask, selectorSignature } from '../src/scheduler/index.js';
import { dev as baseDev } from './support/sched-fixtures.js';

// Names differ from ids here: pinning by name and by id are both tested.
const dev = (id: string, o: Partial<SchedDevice> = {}): SchedDevice => baseDev(id, { name: `${id}-name`, ...o });

let n = 0;
const task = (target: SchedTarget, o: Partial<SchedTask> = {}): SchedTask => {
  const taskId = `t${n++}`;
  return { key: `c1/${taskId}`, constellationId: 'c1', owner: 'alice', taskId, target, priority: 0, kind: 'shell', readySince: n, ...o };
};

/** Enqueues one task with `target` against the given fleet and returns where it went (or undefined). */
function placeOne(devices: SchedDevice[], target: SchedTarget): { deviceId?: string; reason?: string } {
  const s = new Scheduler({ now: () => 0 });
  for (const d of devices) s.upsertDevice(d);
  const t = task(target);
  s.enqueue(t);
  const p = s.schedule(0);
  return { deviceId: p[0]?.deviceId, reason: s.waitingReason(t.key, 0) };
}

describe('scheduler hard constraints', () => {
  const fleet = [
    dev('a', { labels: ['lab', 'fast'], os: 'linux', arch: 'x64', features: ['display'] }),
    dev('b', { labels: ['lab'], os: 'darwin', arch: 'arm64', features: ['gpu', 'metal'], memoryMb: 32768, cpus: 12 }),
    dev('c', { labels: ['edge'], os: 'linux', arch: 'arm64', features: ['gpu', 'cuda'], gpus: 1, memoryMb: 4096 }),
  ];

  it('matches by device id and by device name', () => {
    expect(placeOne(fleet, { device: 'b' }).deviceId).toBe('b');
    expect(placeOne(fleet, { device: 'c-name' }).deviceId).toBe('c');
    expect(placeOne(fleet, { device: 'zzz' }).reason).toBe('no online device is the pinned device zzz');
  });

  it('matches os, arch, labels (all), capabilities (all) and minimum resources', () => {
    expect(placeOne(fleet, { os: 'darwin' }).deviceId).toBe('b');
    expect(placeOne(fleet, { os: 'linux', arch: 'arm64' }).deviceId).toBe('c');
    expect(placeOne(fleet, { labels: ['lab', 'fast'] }).deviceId).toBe('a');
    expect(placeOne(fleet, { capabilities: ['gpu', 'cuda'] }).deviceId).toBe('c');
    expect(placeOne(fleet, { minMemoryMb: 16384 }).deviceId).toBe('b');
    expect(placeOne(fleet, { minCpus: 8 }).deviceId).toBe('b');
    expect(placeOne(fleet, { gpus: 1 }).deviceId).toBe('c');
  });

  it('explains the first constraint nobody meets', () => {
    expect(placeOne(fleet, { os: 'windows' }).reason).toBe('no online device runs os windows');
    expect(placeOne(fleet, { arch: 'riscv64' }).reason).toBe('no online device has arch riscv64');
    expect(placeOne(fleet, { labels: ['gpu', 'x'] }).reason).toBe('no online device matches labels [gpu, x]');
    expect(placeOne(fleet, { capabilities: ['android'] }).reason).toBe('no online device has capability android');
    expect(placeOne(fleet, { capabilities: ['cuda', 'metal'] }).reason).toBe('no online device has capabilities [cuda, metal]');
    expect(placeOne(fleet, { minCpus: 64 }).reason).toBe('no online device has ≥ 64 cpus');
    expect(placeOne(fleet, { minMemoryMb: 65536 }).reason).toBe('no online device has ≥ 65536 MB memory');
    expect(placeOne(fleet, { gpus: 4 }).reason).toBe('no online device has ≥ 4 gpus');
    expect(placeOne([], {}).reason).toBe('no device is connected');
  });

  it('never places on a draining, lost or offline device, and says so', () => {
    for (const status of ['draining', 'lost', 'offline'] as const) {
      const r = placeOne([dev('g', { features: ['cuda'], status })], { capabilities: ['cuda'] });
      expect(r.deviceId).toBeUndefined();
      expect(r.reason).toBe(`no device is online (matching but not online: g-name (${status}))`);
    }
    const r = placeOne([dev('g', { features: ['cuda'], status: 'draining' }), dev('h')], { capabilities: ['cuda'] });
    expect(r.reason).toBe('no online device has capability cuda (matching but not online: g-name (draining))');
  });

  it('stops placing on a device as soon as it drains, and resumes when it is back online', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a', { slots: 4 }));
    for (let i = 0; i < 6; i++) s.enqueue(task({}));
    expect(s.schedule(0)).toHaveLength(4);
    s.upsertDevice(dev('a', { slots: 4, status: 'draining' }));
    expect(s.stats().freeSlots).toBe(0);
    expect(s.schedule(1)).toHaveLength(0);
    s.upsertDevice(dev('a', { slots: 8 }));
    expect(s.schedule(2)).toHaveLength(2);
  });

  it('reports busy devices, backoff and unknown keys', () => {
    const s = new Scheduler({ now: () => 0 });
    s.upsertDevice(dev('a', { slots: 2 }));
    s.upsertDevice(dev('b', { slots: 1 }));
    const ts = [task({}), task({}), task({}), task({})];
    for (const t of ts) s.enqueue(t);
    expect(s.schedule(0)).toHaveLength(3);
    expect(s.waitingReason(ts[3]!.key, 0)).toBe('all 2 matching devices are busy (3/3 slots used)');
    expect(s.waitingReason(ts[0]!.key, 0)).toBeUndefined();
    s.release(ts[0]!.key, 'a');
    expect(s.waitingReason(ts[3]!.key, 0)).toBe('queued behind higher-ranked tasks; 1 matching device has free slots');
    expect(s.schedule(0).map((p) => p.key)).toEqual([ts[3]!.key]);
    const later = task({}, { notBefore: Date.UTC(2030, 0, 1) });
    s.enqueue(later);
    expect(s.waitingReason(later.key, 0)).toBe('waiting for retry backoff until 2030-01-01T00:00:00.000Z');
    expect(s.nextWakeAt()).toBe(Date.UTC(2030, 0, 1));
  });

  it('leaves out devices that refused the task, and says so when none is left', () => {
    expect(placeOne(fleet, { labels: ['lab'], refusedBy: ['a'] }).deviceId).toBe('b');
    const none = placeOne(fleet, { labels: ['lab'], refusedBy: ['a', 'b'] });
    expect(none.deviceId).toBeUndefined();
    expect(none.reason).toContain('no online device accepts this task: every matching one refused it');
    // A refusal is part of the queue signature: refused and unrefused tasks never share candidates.
    const sig = (t: SchedTarget): string => selectorSignature(t);
    expect(sig({ labels: ['lab'], refusedBy: ['b', 'a'] })).toBe(sig({ labels: ['lab'], refusedBy: ['a', 'b'] }));
    expect(sig({ labels: ['lab'], refusedBy: ['a'] })).not.toBe(sig({ labels: ['lab'] }));
  });

  it('gives identical selectors one signature regardless of list order', () => {
    expect(selectorSignature({ labels: ['b', 'a'], capabilities: ['y', 'x'] })).toBe(
      selectorSignature({ capabilities: ['x', 'y', 'x'], labels: ['a', 'b'] }),
    );
    expect(selectorSignature({ os: 'linux' })).not.toBe(selectorSignature({ arch: 'linux' }));
  });

  it('re-matches queued tasks when a device gains a capability', () => {
    const s = new Scheduler();
    s.upsertDevice(dev('a'));
    const t = task({ capabilities: ['cuda'] });
    s.enqueue(t);
    expect(s.schedule(0)).toHaveLength(0);
    s.upsertDevice(dev('a', { features: ['cuda'] }));
    expect(s.schedule(1).map((p) => p.key)).toEqual([t.key]);
  });
});
