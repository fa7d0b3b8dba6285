// Public shapes of the scheduler. Plain data: the engine maps its own state
// (devices from Hello/Heartbeat, ready tasks from the constellation) onto them.
import type { TargetSelector } from '../model/types.js';

export type DeviceStatus = 'online' | 'draining' | 'lost' | 'offline';

/** A task's hard constraints: its selector, minus devices whose session refused it for good. */
export type SchedTarget = TargetSelector & { refusedBy?: readonly string[] };

/** What the scheduler needs to know about a device (from AIP Capabilities + session state). */
export interface SchedDevice {
  id: string;
  name: string;
  labels: string[];
  os: string;
  arch: string;
  /** Capabilities such as gpu, cuda, android, display. */
  features: string[];
  /** Concurrent tasks the device accepts. Never exceeded. */
  slots: number;
  cpus: number;
  memoryMb: number;
  gpus: number;
  status: DeviceStatus;
}

/** A ready task waiting for a device. */
export interface SchedTask {
  /** `${constellationId}/${taskId}`: unique among queued and placed tasks. */
  key: string;
  constellationId: string;
  owner: string;
  taskId: string;
  target: SchedTarget;
  /** Higher goes first, strictly (before fairness). */
  priority: number;
  /** Executor kind plus an optional estimate class (e.g. `shell:compile`): the unit of runtime learning. */
  kind: string;
  /** When the task became ready (ms): FIFO order among equals. */
  readySince: number;
  /** Absolute time (ms) the task should have finished by; raises urgency as it approaches. */
  deadline?: number;
  /** Not placed before this time (ms): retry backoff. */
  notBefore?: number;
  /**
   * Bottom level: estimated length (ms) of the longest path from this task to
   * the end of its graph. Larger goes first among otherwise equal tasks, which
   * is what keeps makespan close to the critical path (HEFT's upward rank).
   */
  rank?: number;
  /** Bytes of input artifacts already stored on each device (transfer cost = the rest / bandwidth). */
  inputBytesByDevice?: Record<string, number>;
  /** Total bytes of input artifacts; defaults to the sum of inputBytesByDevice. */
  inputBytes?: number;
}

export interface PlacementExplanation {
  reason: string;
  /** Lower is better; the score the chosen device won with. */
  score: number;
  /** Score parts in ms (estRuntimeMs, transferMs, waitMs, loadPenalty, estFinishMs) and ordering inputs (priority, priorityBoost, fairShare, ownerShare). */
  parts: Record<string, number>;
  /** Free, feasible devices that were scored. */
  candidates: number;
}

export interface Placement {
  key: string;
  deviceId: string;
  explanation: PlacementExplanation;
}

export interface Weights {
  /** Penalty (ms) added for a fully occupied device, scaled by running/slots. */
  loadMs: number;
  /** Extra penalty as a fraction of the runtime estimate, scaled by running/slots (contention slows tasks). */
  loadFactor: number;
  /** Assumed bandwidth between devices, bytes per ms (12,500 = 100 Mbit/s). */
  bandwidthBytesPerMs: number;
  /** Runtime estimate (ms) for a kind never seen on any device. */
  defaultRuntimeMs: number;
  /** Weight of the newest sample in the per-(device, kind) moving average. */
  ewmaAlpha: number;
  /** Half-life (ms) of the "recently dispatched" part of fair-share usage. */
  fairHalfLifeMs: number;
  /** Urgency starts when the slack before a deadline drops below this (ms). */
  deadlineWindowMs: number;
  /** Priority levels added when a deadline's slack reaches zero (linear before that). */
  deadlineBoost: number;
  /** At most this many free devices are scored per placement (sampled when more). */
  maxCandidates: number;
  /** Keep a task queued when a busy matching device would finish it sooner than any free one (HEFT). */
  waitForFaster: boolean;
  /** Wait only when the busy device's estimated finish is better by this fraction. */
  waitMargin: number;
  /**
   * ...and by at least this many ms: for tasks of a few ms, estimate noise
   * and dispatch overhead outweigh any gain, and waiting only idles slots.
   */
  waitMinGainMs: number;
}

export const DEFAULT_WEIGHTS: Readonly<Weights> = Object.freeze({
  loadMs: 1,
  loadFactor: 0.1,
  bandwidthBytesPerMs: 12_500,
  defaultRuntimeMs: 1_000,
  ewmaAlpha: 0.3,
  fairHalfLifeMs: 30_000,
  deadlineWindowMs: 60_000,
  deadlineBoost: 10,
  maxCandidates: 64,
  waitForFaster: true,
  waitMargin: 0.1,
  waitMinGainMs: 20,
});

export interface SchedulerOptions {
  weights?: Partial<Weights>;
  /** Seeded random for candidate sampling; Math.random by default. */
  random?: () => number;
  /** Clock for waitingReason() and stats; Date.now by default. */
  now?: () => number;
}

export interface SchedulerStats {
  queued: number;
  /** Tasks waiting for retry backoff (included in queued). */
  delayed: number;
  placed: number;
  devices: number;
  onlineDevices: number;
  freeSlots: number;
  signatures: number;
  queues: number;
}
