// Picks the device for one task among the free devices of its signature
// group: HEFT-style earliest estimated finish (runtime estimate + input
// transfer) plus a load penalty. When a busy device would still finish the
// task clearly sooner than every free one, the task waits for it instead.
import type { RuntimeEstimator } from './runtime-estimator.js';
import type { DeviceState, SigGroup } from './task-queue.js';
import type { SchedTask, Weights } from './types.js';

export interface Chosen {
  kind: 'place';
  device: DeviceState;
  score: number;
  estRuntimeMs: number;
  transferMs: number;
  loadPenalty: number;
  candidates: number;
}

export interface Deferred {
  kind: 'wait';
  device: DeviceState;
  /** When the busy device is expected to free a slot. */
  until: number;
  estFinishMs: number;
}

/** Expected slot-free times per busy device, including reservations made by earlier deferrals this round. */
export type Reservations = Map<DeviceState, number[]>;

export function transferMs(t: SchedTask, deviceId: string, w: Weights): number {
  const by = t.inputBytesByDevice;
  if (!by) return 0;
  let total = t.inputBytes;
  if (total === undefined) {
    total = 0;
    for (const v of Object.values(by)) total += v;
  }
  const missing = Math.max(0, total - (by[deviceId] ?? 0));
  return missing / w.bandwidthBytesPerMs;
}

export function chooseDevice(
  t: SchedTask,
  sig: SigGroup,
  now: number,
  w: Weights,
  est: RuntimeEstimator,
  random: () => number,
  reservations: Reservations,
): Chosen | Deferred | undefined {
  let best: Chosen | undefined;
  let considered = 0;
  const kind = est.stats(t.kind);
  const consider = (d: DeviceState): void => {
    const slots = d.dev.slots;
    if (d.running >= slots) return;
    considered++;
    const runtime = est.estimateWith(kind, d.dev.id);
    const transfer = transferMs(t, d.dev.id, w);
    const occupancy = d.running / slots;
    const load = occupancy * (w.loadMs + w.loadFactor * runtime);
    const score = runtime + transfer + load;
    if (
      !best ||
      score < best.score ||
      (score === best.score && (d.running < best.device.running || (d.running === best.device.running && d.dev.id < best.device.dev.id)))
    ) {
      best = { kind: 'place', device: d, score, estRuntimeMs: runtime, transferMs: transfer, loadPenalty: load, candidates: 0 };
    }
  };

  const size = sig.free.size;
  if (size <= w.maxCandidates) {
    for (const d of sig.free) consider(d);
  } else {
    // Too many to score: a seeded-random window of maxCandidates, so big fleets stay O(maxCandidates).
    const skip = Math.floor(random() * size);
    let i = 0;
    for (const d of sig.free) {
      if (i++ >= skip) consider(d);
      if (considered >= w.maxCandidates) break;
    }
    i = 0;
    for (const d of sig.free) {
      if (considered >= w.maxCandidates || i++ >= skip) break;
      consider(d);
    }
  }
  if (!best) return undefined;
  best.candidates = considered;

  if (!w.waitForFaster || sig.devices.size === sig.free.size || sig.devices.size > w.maxCandidates) return best;
  const freeFinish = best.estRuntimeMs + best.transferMs;
  let wait: Deferred | undefined;
  let waitEnds: number[] | undefined;
  for (const d of sig.devices) {
    if (d.running < d.dev.slots) continue;
    const ends = reservations.get(d) ?? slotEnds(d, now);
    const idx = ends.length - d.dev.slots;
    const freeAt = ends[idx] ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(freeAt)) continue;
    const finish = freeAt - now + est.estimateWith(kind, d.dev.id) + transferMs(t, d.dev.id, w);
    if (finish < freeFinish * (1 - w.waitMargin) && (!wait || finish < wait.estFinishMs)) {
      wait = { kind: 'wait', device: d, until: freeAt, estFinishMs: finish };
      waitEnds = ends;
    }
  }
  if (!wait || !waitEnds) return best;
  // Reserve that slot: later tasks this round see it taken until this task would finish.
  const idx = waitEnds.length - wait.device.dev.slots;
  waitEnds[idx] = now + wait.estFinishMs;
  waitEnds.sort((a, b) => a - b);
  reservations.set(wait.device, waitEnds);
  return wait;
}

/**
 * Expected end of each running task, ascending. A task past its estimate has
 * an unknown end (Infinity): we never wait for a device whose work overran.
 */
function slotEnds(d: DeviceState, now: number): number[] {
  const ends: number[] = [];
  for (const p of d.placed.values()) {
    const end = p.startedAt + p.estMs;
    ends.push(end >= now ? end : Number.POSITIVE_INFINITY);
  }
  while (ends.length < d.running) ends.push(Number.POSITIVE_INFINITY);
  return ends.sort((a, b) => a - b);
}
