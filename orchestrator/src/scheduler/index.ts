/**
 * Scheduler: decides which device runs which ready task. Pure TypeScript, no
 * I/O; deterministic given `now` arguments and a seeded `random`.
 *
 * The engine (a single-writer loop) owns one instance and calls it
 * synchronously:
 *
 *   upsertDevice(d) / removeDevice(id) → keys it was running
 *   enqueue(task) / remove(key) / has(key)
 *   schedule(now) → Placement[]   // as many as free slots allow; slots are marked used
 *   release(key, deviceId, runtimeMs?)   // task ended or was handed back; teaches runtimes
 *   markRunning(task, deviceId, startedAt)   // recovery: work already on a device
 *   waitingReason(key) → text | undefined
 *   nextWakeAt() → ms | undefined   // arm a timer: backoff ends / a deferred wait expires
 *   stragglers(now, factor?, minMs?) → keys   // speculative re-execution hints
 *   stats()
 *
 * Call schedule() after any event that may free a slot or add work (enqueue,
 * release, device up/online) and when nextWakeAt() passes. The scheduler's own
 * running counts are authoritative: a device never gets more than `slots`
 * placements (heartbeat load is advisory and not needed here).
 *
 * Rules, in order: hard constraints (pin by id or name, os, arch, all labels,
 * all capabilities, min cpus/memory/gpus, status online, a free slot); among
 * queued tasks: priority (+ deadline urgency), hierarchical fair share (owner,
 * then constellation: running + recently dispatched, decayed), rank (longest
 * remaining path), FIFO; among devices: earliest estimated finish (learned
 * runtime per (device, kind) + input transfer) plus a load penalty, or wait for
 * a busy device that would clearly finish sooner. See docs/scheduling.md.
 */
export { Scheduler } from './scheduler.js';
export { SchedulerError, type SchedulerErrorCode } from './errors.js';
export { explainMismatch, matchesSelector, selectorSignature } from './constraints.js';
export { RuntimeEstimator } from './runtime-estimator.js';
export {
  DEFAULT_WEIGHTS,
  type DeviceStatus,
  type Placement,
  type PlacementExplanation,
  type SchedDevice,
  type SchedTarget,
  type SchedTask,
  type SchedulerOptions,
  type SchedulerStats,
  type Weights,
} from './types.js';
