import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TargetSelector } from '../src/model/types.js';
import { type SchedDevice, Scheduler, type SchedTask } from '../src/scheduler/index.js';

/** Independent oracle for the hard constraints (deliberately not the scheduler's own matcher). */
function satisfies(t: TargetSelector, d: SchedDevice): boolean {
  if (t.device !== undefined && t.device !== d.id && t.device !== d.name) return false;
  if (t.os !== undefined && t.os !== d.os) return false;
  if (t.arch !== undefined && t.arch !== d.arch) return false;
  if ((t.labels ?? []).some((l) => !d.labels.includes(l))) return false;
  if ((t.capabilities ?? []).some((c) => !d.features.includes(c))) return false;
  if (t.minCpus !== undefined && d.cpus < t.minCpus) return false;
  if (t.minMemoryMb !== undefined && d.memoryMb < t.minMemoryMb) return false;
  if (t.gpus !== undefined && d.gpus < t.gpus) return false;
  return true;
}

const LABELS = ['gpu', 'lab', 'edge'];
const FEATURES = ['cuda', 'display', 'android'];
const subset = (xs: string[]) => fc.subarray(xs, { maxLength: 2 });

const deviceArb = (i: number) =>
  fc.record({
    labels: subset(LABELS),
    os: fc.constantFrom('linux', 'darwin'),
    arch: fc.constantFrom('x64', 'arm64'),
    features: subset(FEATURES),
    slots: fc.integer({ min: 0, max: 3 }),
    cpus: fc.integer({ min: 1, max: 16 }),
    memoryMb: fc.constantFrom(2048, 8192, 32768),
    gpus: fc.integer({ min: 0, max: 2 }),
    status: fc.constantFrom('online', 'online', 'online', 'online', 'draining', 'lost', 'offline'),
  }).map((d): SchedDevice => ({ ...d, id: `d${i}`, name: `dev-${i}` }) as SchedDevice);

// Mostly loose selectors (so work flows), some tight ones (so every check is exercised).
const oneConstraint: fc.Arbitrary<TargetSelector> = fc.oneof(
  fc.constantFrom('d0', 'dev-1', 'd2').map((device) => ({ device })),
  subset(LABELS).map((labels) => ({ labels })),
  fc.constantFrom('linux', 'darwin').map((os) => ({ os })),
  fc.constantFrom('x64', 'arm64').map((arch) => ({ arch })),
  subset(FEATURES).map((capabilities) => ({ capabilities })),
  fc.integer({ min: 1, max: 8 }).map((minCpus) => ({ minCpus })),
  fc.constantFrom(1024, 8192).map((minMemoryMb) => ({ minMemoryMb })),
  fc.integer({ min: 1, max: 2 }).map((gpus) => ({ gpus })),
);
const selectorArb: fc.Arbitrary<TargetSelector> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({}) },
  { weight: 4, arbitrary: oneConstraint },
  { weight: 2, arbitrary: fc.tuple(oneConstraint, oneConstraint).map(([a, b]) => ({ ...a, ...b })) },
);

type Op =
  | { op: 'enqueue'; target: TargetSelector; priority: number; constellation: number; notBefore: number | undefined }
  | { op: 'schedule' }
  | { op: 'release'; pick: number; runtime: number }
  | { op: 'device'; index: number; device: SchedDevice }
  | { op: 'removeDevice'; index: number }
  | { op: 'remove'; pick: number }
  | { op: 'tick'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('enqueue' as const), target: selectorArb, priority: fc.integer({ min: 0, max: 2 }), constellation: fc.integer({ min: 0, max: 2 }), notBefore: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }) }) },
  { weight: 4, arbitrary: fc.constant({ op: 'schedule' as const }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat(), runtime: fc.integer({ min: 1, max: 100 }) }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }).chain((index) => deviceArb(index).map((device) => ({ op: 'device' as const, index, device }))) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeDevice' as const), index: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 30 }) }) },
);

describe('scheduler properties', () => {
  it('never exceeds slots and every placement satisfies its constraints', () => {
    let totalPlacements = 0;
    fc.assert(
      fc.property(
        fc.tuple(deviceArb(0), deviceArb(1), deviceArb(2)),
        fc.array(opArb, { minLength: 30, maxLength: 120 }),
        fc.integer(),
        (initial, ops, seed) => {
          let x = seed >>> 0 || 1;
          const random = () => {
            x = (x * 1103515245 + 12345) >>> 0;
            return x / 2 ** 32;
          };
          let now = 0;
          const s = new Scheduler({ random, now: () => now });
          const devices = new Map<string, SchedDevice>();
          const running = new Map<string, string>(); // key -> device id (our model)
          const queued = new Map<string, SchedTask>();
          for (const d of initial) {
            s.upsertDevice(d);
            devices.set(d.id, d);
          }
          let nextId = 0;
          for (const o of ops) {
            switch (o.op) {
              case 'enqueue': {
                const id = `t${nextId++}`;
                const c = `c${o.constellation}`;
                const t: SchedTask = { key: `${c}/${id}`, constellationId: c, owner: `o${o.constellation % 2}`, taskId: id, target: o.target, priority: o.priority, kind: 'k', readySince: now, notBefore: o.notBefore };
                s.enqueue(t);
                queued.set(t.key, t);
                break;
              }
              case 'schedule': {
                for (const p of s.schedule(now)) {
                  const t = queued.get(p.key);
                  const d = devices.get(p.deviceId);
                  expect(t).toBeDefined();
                  expect(d).toBeDefined();
                  expect(d!.status).toBe('online');
                  expect(satisfies(t!.target, d!)).toBe(true);
                  expect(t!.notBefore ?? 0).toBeLessThanOrEqual(now);
                  queued.delete(p.key);
                  running.set(p.key, p.deviceId);
                  totalPlacements++;
                }
                const perDevice = new Map<string, number>();
                for (const dId of running.values()) perDevice.set(dId, (perDevice.get(dId) ?? 0) + 1);
                for (const [dId, count] of perDevice) {
                  expect(count).toBeLessThanOrEqual(devices.get(dId)!.slots);
                  expect(s.device(dId)?.running).toBe(count);
                }
                break;
              }
              case 'release': {
                const keys = [...running.keys()];
                if (keys.length === 0) break;
                const key = keys[o.pick % keys.length]!;
                expect(s.release(key, running.get(key)!, o.runtime)).toBe(true);
                running.delete(key);
                break;
              }
              case 'device': {
                // Shrinking slots below running is allowed; the invariant is that nothing new lands there.
                const prev = devices.get(o.device.id);
                const runningThere = [...running.values()].filter((d) => d === o.device.id).length;
                const device = { ...o.device, slots: Math.max(o.device.slots, prev ? Math.min(prev.slots, runningThere) : 0) };
                s.upsertDevice(device);
                devices.set(device.id, device);
                break;
              }
              case 'removeDevice': {
                const id = `d${o.index}`;
                const back = s.removeDevice(id).sort();
                const ours = [...running.entries()].filter(([, d]) => d === id).map(([k]) => k).sort();
                expect(back).toEqual(ours);
                for (const k of ours) running.delete(k);
                devices.delete(id);
                break;
              }
              case 'remove': {
                const keys = [...queued.keys()];
                if (keys.length === 0) break;
                const key = keys[o.pick % keys.length]!;
                expect(s.remove(key)).toBe(true);
                queued.delete(key);
                break;
              }
              case 'tick':
                now += o.ms;
                break;
            }
            expect(s.stats().queued).toBe(queued.size);
            expect(s.stats().placed).toBe(running.size);
            for (const k of queued.keys()) expect(typeof s.waitingReason(k, now)).toBe('string');
          }
          // Liveness: with every device online and idle, any task that some device satisfies gets placed.
          for (const [k, d] of running) s.release(k, d);
          for (const d of devices.values()) s.upsertDevice({ ...d, status: 'online', slots: Math.max(1, d.slots) });
          now += 1000;
          const placedKeys = new Set<string>();
          for (let i = 0; i < queued.size + 1; i++) {
            const ps = s.schedule(now);
            if (ps.length === 0) break;
            for (const p of ps) {
              placedKeys.add(p.key);
              s.release(p.key, p.deviceId, 1);
            }
          }
          for (const [k, t] of queued) {
            const feasible = [...devices.values()].some((d) => satisfies(t.target, d));
            expect(placedKeys.has(k)).toBe(feasible);
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
    expect(totalPlacements).toBeGreaterThan(1000);
  });
});
