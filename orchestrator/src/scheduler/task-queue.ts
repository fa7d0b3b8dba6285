// The ready-task index. Tasks with the same constraint signature share a
// SigGroup (one candidate-device set for all of them); inside a group, one
// TaskQueue per (constellation, owner, priority, has-deadline) keeps its
// tasks in order. The scheduler only ever looks at queue heads, so a round
// costs O(queues), never O(queued tasks).
import { BinaryHeap } from './binary-heap.js';
import type { SchedDevice, SchedTarget, SchedTask } from './types.js';

export type EntryState = 'queued' | 'delayed' | 'removed';

/** One enqueued task. Entries are never reused, so a stale heap slot is recognised by its state. */
export interface Entry {
  task: SchedTask;
  seq: number;
  state: EntryState;
  queue: TaskQueue;
  /** Set when the last round kept this task back for a faster busy device. */
  deferral?: { deviceName: string; until: number; round: number };
}

export interface DeviceState {
  dev: SchedDevice;
  running: number;
  /** Signature groups this device statically matches (only while online). */
  sigs: Set<SigGroup>;
  placed: Map<string, PlacedTask>;
  /** Whether it is in the free sets of its groups (online and running < slots). */
  inFree: boolean;
  /** Its contribution to the scheduler's free-slot total. */
  freeCounted: number;
}

export interface PlacedTask {
  key: string;
  deviceId: string;
  constellationId: string;
  owner: string;
  kind: string;
  startedAt: number;
  estMs: number;
}

export class SigGroup {
  /** Online devices that satisfy the selector. */
  readonly devices = new Set<DeviceState>();
  /** The subset with a free slot: the only devices a placement looks at. */
  readonly free = new Set<DeviceState>();
  readonly queues = new Map<string, TaskQueue>();
  /** Live queued entries (not delayed) across this group's queues. */
  queued = 0;
  /** Cached "no device matches" text, valid for one device-set version. */
  mismatch?: { version: number; text: string | undefined };
  /** Cached "all matching devices are busy" text, valid for one slot version. */
  busy?: { version: number; text: string };
  constructor(
    readonly key: string,
    readonly selector: SchedTarget,
  ) {}
}

// Within a queue: earliest deadline first (deadline queues only), then the
// longest remaining path (rank), then FIFO.
function entryLess(a: Entry, b: Entry): boolean {
  const da = a.task.deadline ?? Number.POSITIVE_INFINITY;
  const db = b.task.deadline ?? Number.POSITIVE_INFINITY;
  if (da !== db) return da < db;
  const ra = a.task.rank ?? 0;
  const rb = b.task.rank ?? 0;
  if (ra !== rb) return ra > rb;
  if (a.task.readySince !== b.task.readySince) return a.task.readySince < b.task.readySince;
  return a.seq < b.seq;
}

export class TaskQueue {
  private readonly heap = new BinaryHeap<Entry>(entryLess);
  live = 0;
  private garbage = 0;

  constructor(
    readonly id: string,
    readonly sig: SigGroup,
    readonly constellationId: string,
    readonly owner: string,
    readonly priority: number,
  ) {}

  static idFor(t: SchedTask): string {
    return `${t.constellationId}\u0000${t.owner}\u0000${t.priority}\u0000${t.deadline === undefined ? 0 : 1}`;
  }

  push(e: Entry): void {
    this.heap.push(e);
    this.live++;
  }

  /** The first live entry, dropping stale ones on the way. */
  peek(): Entry | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top || (top.state === 'queued' && top.queue === this)) return top;
      this.heap.pop();
      this.garbage = Math.max(0, this.garbage - 1);
    }
  }

  pop(): Entry | undefined {
    const e = this.peek();
    if (e) {
      this.heap.pop();
      this.live--;
    }
    return e;
  }

  /** An entry of this queue was removed in place (lazy deletion). */
  dropped(): void {
    this.live--;
    this.garbage++;
    if (this.garbage > 1024 && this.garbage > this.live) {
      this.heap.filter((e) => e.state === 'queued' && e.queue === this);
      this.garbage = 0;
    }
  }
}
