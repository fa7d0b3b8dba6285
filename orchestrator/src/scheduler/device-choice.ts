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

/**
 * Per busy device, for one round: expected slot-free times (ascending),
 * including slots reserved by earlier deferrals, and how many tasks wait for it.
 */
export type Reservations = Map<DeviceState, { ends: number[]; waiting: number }>;

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
  const kind = est.stats(t.kind);
  // Plain variables instead of a closure and per-candidate objects: this loop is the hot path.
  let best: DeviceState | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  let bestRuntime = 0;
  let bestTransfer = 0;
  let bestLoad = 0;
  let considered = 0;
  const consider = (d: DeviceState): void => {
    const slots = d.dev.slots;
    if (d.running >= slots) return;
    considered++;
    const runtime = est.estimateWith(kind, d.dev.id);
    const transfer = t.inputBytesByDevice ? transferMs(t, d.dev.id, w) : 0;
    const occupancy = d.running / slots;
    const load = occupancy * (w.loadMs + w.loadFactor * runtime);
    const score = runtime + transfer + load;
    if (
      best === undefined ||
      score < bestScore ||
      (score === bestScore && (d.running < best.running || (d.running === best.running && d.dev.id < best.dev.id)))
    ) {
      best = d;
      bestScore = score;
      bestRuntime = runtime;
      bestTransfer = transfer;
      bestLoad = load;
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
  if (best === undefined) return undefined;
  const chosen: Chosen = {
    kind: 'place',
    device: best,
    score: bestScore,
    estRuntimeMs: bestRuntime,
    transferMs: bestTransfer,
    loadPenalty: bestLoad,
    candidates: considered,
  };

  if (!w.waitForFaster || sig.devices.size === sig.free.size || sig.devices.size > w.maxCandidates) return chosen;
  const freeFinish = bestRuntime + bestTransfer;
  let wait: Deferred | undefined;
  let waitSlot: { ends: number[]; waiting: number } | undefined;
  for (const d of sig.devices) {
    if (d.running < d.dev.slots) continue;
    const slot = reservations.get(d) ?? { ends: slotEnds(d, now), waiting: 0 };
    // At most one waiting task per slot and round: bounds the work per round
    // (tiny tasks would otherwise all queue up behind one fast device).
    if (slot.waiting >= d.dev.slots) continue;
    const freeAt = slot.ends[slot.ends.length - d.dev.slots] ?? Number.POSITIVE_INFINITY;
    if (!Number.isFinite(freeAt)) continue;
    const finish = freeAt - now + est.estimateWith(kind, d.dev.id) + transferMs(t, d.dev.id, w);
    const gain = freeFinish - finish;
    if (gain > freeFinish * w.waitMargin && gain >= w.waitMinGainMs && (!wait || finish < wait.estFinishMs)) {
      wait = { kind: 'wait', device: d, until: freeAt, estFinishMs: finish };
      waitSlot = slot;
    }
  }
  if (!wait || !waitSlot) return chosen;
  // Reserve that slot: later tasks this round see it taken until this task would finish.
  waitSlot.ends[waitSlot.ends.length - wait.device.dev.slots] = now + wait.estFinishMs;
  waitSlot.ends.sort((a, b) => a - b);
  waitSlot.waiting++;
  reservations.set(wait.device, waitSlot);
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
