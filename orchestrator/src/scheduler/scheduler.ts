// The placement engine's brain, called synchronously by the single-writer
// engine loop. See index.ts for the contract. Hot-path costs:
//   enqueue/remove/release: O(log n) (+ O(signatures matching a device) when a
//   device's free/full state flips); schedule(): O(eligible queues) to start a
//   round, then O(log queues + candidate devices) per placement. No call
//   scans all queued tasks.
import { BinaryHeap } from './binary-heap.js';
import { DeviceIndex } from './device-index.js';
import { chooseDevice, type Reservations } from './device-choice.js';
import { SchedulerError } from './errors.js';
import { FairShare } from './fair-share.js';
import { formatMs } from './format-ms.js';
import { RuntimeEstimator } from './runtime-estimator.js';
import { type DeviceState, type Entry, type PlacedTask, type SigGroup, TaskQueue } from './task-queue.js';
import {
  DEFAULT_WEIGHTS,
  type Placement,
  type SchedDevice,
  type SchedTask,
  type SchedulerOptions,
  type SchedulerStats,
  type Weights,
} from './types.js';
import { describeWait } from './waiting-reason.js';

/** A queue head as ranked in one round. Shares only grow during a round, so stale keys are re-checked lazily. */
interface Ranked {
  queue: TaskQueue;
  entry: Entry;
  prio: number;
  boost: number;
  ownerShare: number;
  share: number;
}

function rankedLess(a: Ranked, b: Ranked): boolean {
  if (a.prio !== b.prio) return a.prio > b.prio;
  if (a.ownerShare !== b.ownerShare) return a.ownerShare < b.ownerShare;
  if (a.share !== b.share) return a.share < b.share;
  const ta = a.entry.task;
  const tb = b.entry.task;
  const ra = ta.rank ?? 0;
  const rb = tb.rank ?? 0;
  if (ra !== rb) return ra > rb;
  if (ta.readySince !== tb.readySince) return ta.readySince < tb.readySince;
  return a.entry.seq < b.entry.seq;
}

export class Scheduler {
  readonly weights: Readonly<Weights>;
  private readonly random: () => number;
  private readonly clock: () => number;
  private readonly estimator: RuntimeEstimator;
  private readonly constellationShare: FairShare;
  private readonly ownerShare: FairShare;

  private readonly index: DeviceIndex;
  private readonly activeSigs = new Set<SigGroup>();
  private readonly entries = new Map<string, Entry>();
  private readonly placed = new Map<string, PlacedTask>();
  private readonly delayed = new BinaryHeap<Entry>(
    (a, b) => (a.task.notBefore ?? 0) < (b.task.notBefore ?? 0) || ((a.task.notBefore ?? 0) === (b.task.notBefore ?? 0) && a.seq < b.seq),
  );
  /** Queued (incl. delayed) tasks per constellation and per owner: lets fair-share records go when idle. */
  private readonly queuedByConstellation = new Map<string, number>();
  private readonly queuedByOwner = new Map<string, number>();
  private delayedLive = 0;
  private seq = 0;
  private round = 0;
  private deferWakeAt: number | undefined;

  constructor(opts: SchedulerOptions = {}) {
    this.weights = Object.freeze({ ...DEFAULT_WEIGHTS, ...opts.weights });
    this.random = opts.random ?? Math.random;
    this.clock = opts.now ?? Date.now;
    this.estimator = new RuntimeEstimator(this.weights.ewmaAlpha, this.weights.defaultRuntimeMs);
    this.constellationShare = new FairShare(this.weights.fairHalfLifeMs);
    this.ownerShare = new FairShare(this.weights.fairHalfLifeMs);
    this.index = new DeviceIndex(() => {
      const inUse = new Set<SigGroup>();
      for (const e of this.entries.values()) inUse.add(e.queue.sig);
      return inUse;
    });
  }

  // ---- devices -------------------------------------------------------------

  upsertDevice(d: SchedDevice): void {
    this.index.upsert(d);
  }

  /** Forgets a device. Returns the keys of tasks it was running: the engine re-enqueues or fails them. */
  removeDevice(id: string): string[] {
    const ds = this.index.devices.get(id);
    if (!ds) return [];
    const keys = [...ds.placed.keys()];
    for (const key of keys) this.release(key, id);
    this.index.remove(id);
    this.estimator.forgetDevice(id);
    return keys;
  }

  // ---- queue ---------------------------------------------------------------

  /** Adds a ready task (or replaces the queued one with the same key). */
  enqueue(t: SchedTask): void {
    if (this.placed.has(t.key)) {
      throw new SchedulerError('SCHED_ALREADY_PLACED', `task ${t.key} is placed; release it before enqueueing it again`);
    }
    if (!t.key || !t.constellationId) throw new SchedulerError('SCHED_BAD_TASK', 'task needs a key and a constellationId');
    if (this.entries.has(t.key)) this.remove(t.key);
    const sig = this.index.sigFor(t.target);
    const qid = TaskQueue.idFor(t);
    let q = sig.queues.get(qid);
    if (!q) {
      q = new TaskQueue(qid, sig, t.constellationId, t.owner, t.priority);
      sig.queues.set(qid, q);
    }
    const e: Entry = { task: t, seq: this.seq++, state: 'queued', queue: q };
    this.entries.set(t.key, e);
    this.countQueued(t, 1);
    // Backoff goes through the timer heap; schedule(now) releases it, so decisions depend only on `now` arguments.
    if (t.notBefore !== undefined) {
      e.state = 'delayed';
      this.delayed.push(e);
      this.delayedLive++;
    } else this.pushQueued(e);
  }

  remove(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    this.countQueued(e.task, -1);
    if (e.state === 'queued') {
      e.state = 'removed';
      e.queue.dropped();
      this.afterQueueShrink(e.queue);
    } else if (e.state === 'delayed') {
      e.state = 'removed';
      this.delayedLive--;
      if (this.delayed.size > 1024 && this.delayed.size > 2 * this.delayedLive) this.delayed.filter((x) => x.state === 'delayed');
    }
    return true;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  isPlaced(key: string): boolean {
    return this.placed.has(key);
  }

  // ---- placement -----------------------------------------------------------

  /** Places as many queued tasks as free slots allow, best first. Marks those slots used. */
  schedule(now: number): Placement[] {
    this.round++;
    this.deferWakeAt = undefined;
    this.promote(now);
    const out: Placement[] = [];
    if (this.index.freeSlots === 0 || this.activeSigs.size === 0) return out;
    const heap = new BinaryHeap<Ranked>(rankedLess);
    for (const sig of this.activeSigs) {
      if (sig.free.size === 0) continue;
      for (const q of sig.queues.values()) {
        const e = q.peek();
        if (e) heap.push(this.rank(q, e, now));
      }
    }
    const reservations: Reservations = new Map();
    const deferred: Entry[] = [];
    while (heap.size > 0 && this.index.freeSlots > 0) {
      const r = heap.pop()!;
      const q = r.queue;
      if (q.sig.free.size === 0) continue;
      const e = q.peek();
      if (!e) continue;
      const fresh = this.rank(q, e, now);
      if (e !== r.entry || fresh.ownerShare !== r.ownerShare || fresh.share !== r.share) {
        heap.push(fresh); // its constellation/owner got placements since it was ranked
        continue;
      }
      const choice = chooseDevice(e.task, q.sig, now, this.weights, this.estimator, this.random, reservations);
      if (!choice) continue;
      q.pop();
      if (choice.kind === 'wait') {
        e.deferral = { deviceName: choice.device.dev.name, until: choice.until, round: this.round };
        this.deferWakeAt = Math.min(this.deferWakeAt ?? Number.POSITIVE_INFINITY, choice.until);
        deferred.push(e);
      } else {
        this.entries.delete(e.task.key);
        this.countQueued(e.task, -1);
        e.state = 'removed';
        const d = choice.device;
        const p: PlacedTask = {
          key: e.task.key,
          deviceId: d.dev.id,
          constellationId: e.task.constellationId,
          owner: e.task.owner,
          kind: e.task.kind,
          startedAt: now,
          estMs: choice.estRuntimeMs,
        };
        const candidatesTotal = q.sig.devices.size;
        this.occupy(d, p, now);
        out.push({
          key: e.task.key,
          deviceId: d.dev.id,
          explanation: {
            reason:
              `earliest estimated finish on ${d.dev.name}: ~${formatMs(choice.estRuntimeMs)} run` +
              (choice.transferMs > 0 ? ` + ${formatMs(choice.transferMs)} input transfer` : '') +
              `, ${d.running - 1}/${d.dev.slots} slots busy before; ${choice.candidates} free of ${candidatesTotal} matching devices`,
            score: choice.score,
            parts: {
              estRuntimeMs: choice.estRuntimeMs,
              transferMs: choice.transferMs,
              loadPenalty: choice.loadPenalty,
              estFinishMs: choice.estRuntimeMs + choice.transferMs,
              priority: e.task.priority,
              priorityBoost: r.boost,
              fairShare: r.share,
              ownerShare: r.ownerShare,
              rank: e.task.rank ?? 0,
            },
            candidates: choice.candidates,
          },
        });
      }
      this.afterQueueShrink(q);
      const next = q.peek();
      if (next) heap.push(this.rank(q, next, now));
    }
    for (const e of deferred) this.pushQueued(e);
    return out;
  }

  /** A placed task ended or was handed back: frees its slot and, given a runtime, teaches the estimator. */
  release(key: string, deviceId: string, runtimeMs?: number): boolean {
    const p = this.placed.get(key);
    if (!p || p.deviceId !== deviceId) return false;
    this.placed.delete(key);
    const ds = this.index.devices.get(deviceId);
    if (ds) {
      ds.placed.delete(key);
      ds.running = Math.max(0, ds.running - 1);
      this.index.refreshFree(ds);
    }
    this.constellationShare.ended(p.constellationId, !this.queuedByConstellation.has(p.constellationId));
    this.ownerShare.ended(p.owner, !this.queuedByOwner.has(p.owner));
    if (runtimeMs !== undefined) this.estimator.observe(deviceId, p.kind, runtimeMs);
    return true;
  }

  /**
   * Records a task already running on a device (recovery after a restart, or
   * an agent that reports work in Hello). Counts against the device's slots even
   * beyond them: the scheduler then places nothing there until it is below.
   */
  markRunning(t: Pick<SchedTask, 'key' | 'constellationId' | 'owner' | 'kind'>, deviceId: string, startedAt: number): void {
    const ds = this.index.devices.get(deviceId);
    if (!ds) throw new SchedulerError('SCHED_UNKNOWN_DEVICE', `device ${deviceId} is not known`);
    if (this.placed.has(t.key)) return;
    this.remove(t.key);
    const est = this.estimator.estimate(deviceId, t.kind);
    this.occupy(ds, { key: t.key, deviceId, constellationId: t.constellationId, owner: t.owner, kind: t.kind, startedAt, estMs: est }, startedAt);
  }

  // ---- insight -------------------------------------------------------------

  /** Why a queued task is not placed; undefined when it is not queued. */
  waitingReason(key: string, now: number = this.clock()): string | undefined {
    const e = this.entries.get(key);
    return e ? describeWait(e, this.index, this.round, now) : undefined;
  }

  /** The earliest time a schedule() call could place something that now waits on time alone (backoff, deferral). */
  nextWakeAt(): number | undefined {
    while (this.delayed.size > 0 && this.delayed.peek()!.state !== 'delayed') this.delayed.pop();
    const nb = this.delayed.peek()?.task.notBefore;
    if (nb === undefined) return this.deferWakeAt;
    return this.deferWakeAt === undefined ? nb : Math.min(nb, this.deferWakeAt);
  }

  /** Placed tasks running longer than `factor` × their estimate (and at least minMs): candidates for speculative re-execution. */
  stragglers(now: number, factor = 3, minMs = 1_000): string[] {
    const out: string[] = [];
    for (const p of this.placed.values()) {
      const elapsed = now - p.startedAt;
      if (elapsed >= minMs && elapsed > factor * p.estMs) out.push(p.key);
    }
    return out;
  }

  /** Current runtime estimate (ms) for a kind on a device. */
  estimateRuntime(deviceId: string, kind: string): number {
    return this.estimator.estimate(deviceId, kind);
  }

  /** Teaches a runtime without a placement (warm start from the journal, declared estimates). */
  observeRuntime(deviceId: string, kind: string, runtimeMs: number): void {
    this.estimator.observe(deviceId, kind, runtimeMs);
  }

  /** Weight for fair share (default 1): a constellation or owner with weight 2 gets twice the share. */
  setShareWeight(scope: 'constellation' | 'owner', id: string, weight: number): void {
    (scope === 'owner' ? this.ownerShare : this.constellationShare).setWeight(id, weight);
  }

  device(id: string): { device: SchedDevice; running: number } | undefined {
    const d = this.index.devices.get(id);
    return d ? { device: d.dev, running: d.running } : undefined;
  }

  stats(): SchedulerStats {
    let online = 0;
    let queues = 0;
    for (const d of this.index.devices.values()) if (d.dev.status === 'online') online++;
    for (const s of this.activeSigs) queues += s.queues.size;
    return {
      queued: this.entries.size,
      delayed: this.delayedLive,
      placed: this.placed.size,
      devices: this.index.devices.size,
      onlineDevices: online,
      freeSlots: this.index.freeSlots,
      signatures: this.index.sigs.size,
      queues,
    };
  }

  // ---- internals -----------------------------------------------------------

  private rank(q: TaskQueue, e: Entry, now: number): Ranked {
    let boost = 0;
    const dl = e.task.deadline;
    if (dl !== undefined) {
      const slack = dl - now - this.estimator.kindEstimate(e.task.kind);
      const urgency = 1 - slack / Math.max(1, this.weights.deadlineWindowMs);
      boost = this.weights.deadlineBoost * Math.min(1, Math.max(0, urgency));
    }
    return {
      queue: q,
      entry: e,
      prio: q.priority + boost,
      boost,
      ownerShare: this.ownerShare.share(q.owner, now),
      share: this.constellationShare.share(q.constellationId, now),
    };
  }

  private occupy(d: DeviceState, p: PlacedTask, now: number): void {
    this.placed.set(p.key, p);
    d.placed.set(p.key, p);
    d.running++;
    this.constellationShare.dispatched(p.constellationId, now);
    this.ownerShare.dispatched(p.owner, now);
    this.index.refreshFree(d);
  }

  private promote(now: number): void {
    for (;;) {
      const top = this.delayed.peek();
      if (!top) return;
      if (top.state !== 'delayed') {
        this.delayed.pop();
        continue;
      }
      if ((top.task.notBefore ?? 0) > now) return;
      this.delayed.pop();
      this.delayedLive--;
      top.state = 'queued';
      this.pushQueued(top);
    }
  }

  private pushQueued(e: Entry): void {
    const sig = e.queue.sig;
    // The queue may have been dropped while this entry was delayed or deferred.
    let q = sig.queues.get(e.queue.id);
    if (!q) {
      q = e.queue;
      sig.queues.set(q.id, q);
    }
    e.queue = q;
    e.state = 'queued';
    q.push(e);
    sig.queued++;
    if (sig.queued === 1) this.activeSigs.add(sig);
  }

  /** Bookkeeping after a live entry left a queue (placed, deferred or removed). */
  private afterQueueShrink(q: TaskQueue): void {
    const sig = q.sig;
    sig.queued--;
    if (q.live === 0 && sig.queues.get(q.id) === q) sig.queues.delete(q.id);
    if (sig.queued === 0) this.activeSigs.delete(sig);
  }

  private countQueued(t: SchedTask, delta: number): void {
    bump(this.queuedByConstellation, t.constellationId, delta);
    bump(this.queuedByOwner, t.owner, delta);
  }
}

function bump(m: Map<string, number>, key: string, delta: number): void {
  const n = (m.get(key) ?? 0) + delta;
  if (n > 0) m.set(key, n);
  else m.delete(key);
}
