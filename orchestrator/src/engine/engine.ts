// The single-writer engine. Every input (agent message, API call, timer)
// changes state through record(), which applies one journal event; flush()
// then places ready tasks, commits the tick's events in one transaction and
// only after that sends commands to agents and notifies watchers. Nothing is
// sent that the journal does not hold.
import type { Body, ServerSession } from '@orrery/protocol';
import type { Logger } from 'pino';
import type { ConstellationSummary, LiveEvent } from '../api/live-events.js';
import { isTerminal } from '../model/dependency-index.js';
import type { Constellation, TaskChange, TaskState } from '../model/types.js';
import { Scheduler } from '../scheduler/index.js';
import type { LogRecord, NewEvent, OrchestratorStore } from '../store/index.js';
import { ARTIFACTS_VERSION } from '@orrery/protocol';
import { usesArtifacts } from '../artifacts/assign-artifacts.js';
import { buildAssign } from './assign-message.js';
import { DeviceLifecycle } from './device-lifecycle.js';
import { DeviceRefusals } from './device-refusals.js';
import { DeviceRegistry, type DeviceEntry } from './device-registry.js';
import { EngineState, type Applied } from './engine-state.js';
import type { AnyEngineEvent, EngineEvent, EventMap, EventType } from './journal-events.js';
import { EngineMetrics } from './metrics.js';
import { computeRanks } from './task-rank.js';
import { splitKey, taskKey, taskKind, toSchedDevice, toSchedTask } from './sched-mapping.js';

export interface EngineOptions {
  store: OrchestratorStore;
  logger: Logger;
  heartbeatIntervalMs: number;
  missedHeartbeats: number;
  snapshotEveryEvents: number;
  /** Snapshots are taken at most this often (default 5 s). */
  minSnapshotIntervalMs?: number;
  /** After a restart, how long devices holding work get to reconnect before it is rerun elsewhere. */
  recoveryGraceMs?: number;
  now?: () => number;
  random?: () => number;
}

/** How long a task refused by a device waits before it is placed again. */
const REJECT_BACKOFF_MS = 1000;

export class Engine {
  readonly devices = new DeviceRegistry();
  readonly scheduler: Scheduler;
  readonly metrics = new EngineMetrics();
  /** Connects, heartbeats, losses and reconciliation of devices. */
  readonly deviceLife = new DeviceLifecycle(this);
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  /** Called with each committed batch of events (tracing, audit). */
  private readonly observers: Array<(events: readonly NewEvent[]) => void> = [];
  readonly log: Logger;
  readonly now: () => number;
  private readonly random: () => number;

  private batch: NewEvent[] = [];
  private logBatch: LogRecord[] = [];
  private afterCommit: Array<() => void> = [];
  private dirty = new Map<string, Set<string>>();
  private dirtyConstellations = new Set<string>();
  /** Constellations whose graph an edit changed this tick: viewers refetch them. */
  private editedConstellations = new Set<string>();
  /** Devices whose running attempts changed this tick: live views show what runs where. */
  private dirtyDevices = new Set<string>();
  private waiters: Array<() => void> = [];
  private flushScheduled = false;
  private eventsSinceSnapshot = 0;
  private lastSnapshotAt = 0;
  private readySince = new Map<string, number>();
  /** Devices whose session refused a task for good: left out of its placement. */
  readonly refusals = new DeviceRefusals();
  /** Critical-path rank of each task, per constellation (tasks added by edits have none). */
  private readonly ranks = new Map<string, Map<string, number>>();
  /** Tasks per status per constellation, kept from changes so summaries cost O(1). */
  private readonly counts = new Map<string, Partial<Record<TaskState['status'], number>>>();
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private livenessTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Sessions that delivered messages since the last commit: acked once it succeeds. */
  private readonly ackPending = new Set<ServerSession>();
  /** Set while the journal cannot be written: no commands go out until it can. */
  storeFailure: Error | undefined;
  /** Devices known to hold an artifact blob (placement prefers them: less to transfer). */
  artifactHolders: ((digest: string) => Iterable<string> | undefined) | undefined;

  private constructor(
    readonly state: EngineState,
    private readonly opts: EngineOptions,
  ) {
    this.log = opts.logger.child({ component: 'engine' });
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.scheduler = new Scheduler({ now: this.now, random: this.random });
  }

  /** Loads the latest snapshot, replays the journal after it, and rebuilds queues. */
  static open(opts: EngineOptions): Engine {
    const started = Date.now();
    const snapshot = opts.store.loadLatestSnapshot();
    const state = snapshot ? EngineState.restore(snapshot.data as never) : new EngineState();
    let replayed = 0;
    for (const ev of opts.store.iterateEvents(snapshot?.seq ?? 0)) {
      state.applyEvent({ type: ev.type, at: ev.at, data: ev.data } as AnyEngineEvent);
      replayed++;
    }
    const engine = new Engine(state, opts);
    engine.eventsSinceSnapshot = replayed;
    engine.rebuildQueues();
    engine.log.info(
      { constellations: state.constellations.size, snapshotSeq: snapshot?.seq ?? 0, replayed, ms: Date.now() - started },
      'state recovered from the journal',
    );
    engine.livenessTimer = setInterval(() => engine.deviceLife.checkLiveness(), opts.heartbeatIntervalMs);
    engine.livenessTimer.unref();
    return engine;
  }

  get lostAfterMs(): number {
    return this.opts.heartbeatIntervalMs * this.opts.missedHeartbeats;
  }

  /** After replay: ready tasks back in the queue, live attempts held for their devices. */
  private rebuildQueues(): void {
    const now = this.now();
    for (const c of this.state.constellations.values()) {
      for (const t of Object.values(c.tasks)) {
        if (t.status === 'ready' && c.status === 'running') this.enqueue(c, t, now);
        if (t.status === 'assigned' || t.status === 'running') {
          const a = t.attempts.at(-1);
          if (!a) continue;
          const d = this.devices.get(a.deviceId) ?? this.devices.placeholder(a.deviceId, now, this.opts.recoveryGraceMs ?? 15_000);
          d.running.set(taskKey(c.id, t.spec.id), a.number);
        }
      }
    }
    for (const d of this.devices.all()) {
      this.scheduler.upsertDevice(toSchedDevice(d));
      for (const key of d.running.keys()) {
        const [cid, tid] = splitKey(key);
        const c = this.state.constellations.get(cid);
        const t = c?.tasks[tid];
        if (c && t) this.scheduler.markRunning({ key, constellationId: cid, owner: c.owner, kind: taskKind(c, t) }, d.id, now);
      }
    }
  }

  // ---- recording -----------------------------------------------------------

  /** Applies one event to the state and, if it changed something, journals it. */
  record<T extends EventType>(type: T, data: EventMap[T]): Applied {
    const event = { type, at: this.now(), data } as EngineEvent<T> as AnyEngineEvent;
    const applied = this.state.applyEvent(event);
    if (applied.rejected) return applied;
    if (type === 'edit.applied' && applied.constellation) this.editedConstellations.add(applied.constellation.id);
    // A new constellation's counts are built from its changes (all from null).
    if (type === 'constellation.submitted' && applied.constellation) this.counts.set(applied.constellation.id, {});
    this.batch.push({ type, constellationId: (data as { id?: string }).id, at: event.at, data });
    if (applied.constellation) this.react(applied.constellation, applied.changes, applied.statusChanged);
    this.scheduleFlush();
    return applied;
  }

  /** Side effects of state changes: queue membership, cancels, notifications. */
  private react(c: Constellation, changes: TaskChange[], statusChanged: boolean): void {
    const now = this.now();
    // The state already holds these changes: a first count is taken from it, later ones move by deltas.
    const counts = this.counts.get(c.id);
    if (!counts) this.counts.set(c.id, countTasks(c));
    for (const ch of changes) {
      if (counts) {
        if (ch.from) counts[ch.from] = (counts[ch.from] ?? 1) - 1;
        if (ch.to) counts[ch.to] = (counts[ch.to] ?? 0) + 1;
      }
      const key = taskKey(c.id, ch.taskId);
      const t = c.tasks[ch.taskId];
      if (ch.to === 'ready' && t && c.status === 'running') this.enqueue(c, t, now);
      else if (ch.from === 'ready' && ch.to !== 'assigned') this.scheduler.remove(key);
      if (ch.to !== 'ready') this.readySince.delete(key);
      if (ch.to === null || isTerminal(ch.to)) this.refusals.forgetTask(key);
      if (ch.cancelAttempt) {
        const { deviceId, attempt } = ch.cancelAttempt;
        this.sendCancel(deviceId, c.id, ch.taskId, attempt, ch.reason ?? 'cancelled');
      }
      this.markDirty(c.id, ch.taskId);
    }
    if (statusChanged || changes.length) this.dirtyConstellations.add(c.id);
  }

  /**
   * Puts a ready task in the scheduler's queue (a no-op while its previous
   * attempt still holds a slot: releaseSlot queues it then). `replace` takes
   * a changed target or priority into account; `notBefore` delays placement.
   */
  enqueue(c: Constellation, t: TaskState, now: number, replace = false, notBefore?: number): void {
    const key = taskKey(c.id, t.spec.id);
    if (this.scheduler.isPlaced(key) || (!replace && this.scheduler.has(key))) return;
    if (!this.readySince.has(key)) this.readySince.set(key, now);
    let ranks = this.ranks.get(c.id);
    if (!ranks) {
      ranks = computeRanks(c);
      this.ranks.set(c.id, ranks);
    }
    const refusedBy = this.refusals.size > 0 ? this.refusals.refusedBy(key, (id) => this.devices.get(id)?.session) : [];
    const task = toSchedTask(c, t, this.readySince.get(key) ?? now, ranks.get(t.spec.id), refusedBy, this.artifactHolders);
    this.scheduler.enqueue(notBefore !== undefined && notBefore > (task.notBefore ?? 0) ? { ...task, notBefore } : task);
  }

  /**
   * After pause/resume/edit: the queue holds exactly the ready tasks of running
   * constellations (all, or those given). Refusals of those tasks are
   * forgotten: an edited task, or one a person resumed, is offered to every device again.
   */
  syncQueue(c: Constellation, taskIds?: Iterable<string>): void {
    const now = this.now();
    for (const taskId of taskIds ?? Object.keys(c.tasks)) {
      const t = c.tasks[taskId];
      if (this.refusals.size > 0) this.refusals.forgetTask(taskKey(c.id, taskId));
      if (t && t.status === 'ready' && c.status === 'running') this.enqueue(c, t, now, true);
      else this.scheduler.remove(taskKey(c.id, taskId));
    }
  }

  markDirty(constellationId: string, taskId: string): void {
    let set = this.dirty.get(constellationId);
    if (!set) {
      set = new Set();
      this.dirty.set(constellationId, set);
    }
    set.add(taskId);
  }

  /** A session delivered a message: its ack waits for the next successful commit. */
  holdAck(session: ServerSession): void {
    this.ackPending.add(session);
    this.scheduleFlush();
  }

  addLogs(records: LogRecord[]): void {
    this.logBatch.push(...records);
    this.scheduleFlush();
  }

  /** Runs `after` once the current tick is committed (used by the API to answer after durability). */
  committed(): Promise<void> {
    this.scheduleFlush();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  // ---- the tick ------------------------------------------------------------

  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    this.dispatch();
    if (!this.commit()) return;
    // What agents sent is durable now: only now may they drop it from their outboxes.
    for (const session of this.ackPending) session.ackReceived();
    this.ackPending.clear();
    const commands = this.afterCommit;
    this.afterCommit = [];
    for (const send of commands) send();
    this.notify();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    this.armWakeTimer();
    // Snapshots block the loop (JSON of the whole state): by count, and not too often.
    if (this.eventsSinceSnapshot >= this.opts.snapshotEveryEvents && Date.now() - this.lastSnapshotAt >= (this.opts.minSnapshotIntervalMs ?? 5000)) {
      this.snapshot();
    }
  }

  /** Commits events and logs; on failure keeps them and retries, holding all commands. */
  private commit(): boolean {
    if (!this.batch.length && !this.logBatch.length) return true;
    const t0 = performance.now();
    try {
      // Events and logs in one transaction: a retry never journals events twice.
      this.opts.store.commit({ events: this.batch, logs: this.logBatch });
    } catch (err) {
      if (!this.storeFailure) this.log.error({ err }, 'journal write failed; holding all commands until it succeeds');
      this.storeFailure = err as Error;
      // The batch is kept and retried, so its waiters keep waiting: an API
      // caller must not be told "failed" for a change that is stored later.
      setTimeout(() => this.scheduleFlush(), 1000).unref();
      return false;
    }
    if (this.storeFailure) this.log.info('journal writable again; resuming');
    this.storeFailure = undefined;
    this.metrics.commitTime.observe((performance.now() - t0) / 1000);
    this.metrics.eventsJournaled += this.batch.length;
    this.eventsSinceSnapshot += this.batch.length;
    const committed = this.batch;
    this.batch = [];
    for (const observe of this.observers) {
      try {
        observe(committed);
      } catch (err) {
        this.log.warn({ err }, 'journal observer failed');
      }
    }
    this.logBatch = [];
    return true;
  }

  /** Places queued tasks on devices with free slots. */
  private dispatch(): void {
    if (this.storeFailure) return;
    const now = this.now();
    for (const p of this.scheduler.schedule(now)) {
      const [cid, tid] = splitKey(p.key);
      const c = this.state.constellations.get(cid);
      const device = this.devices.get(p.deviceId);
      const session = device?.session;
      if (!c || !device || !session) {
        this.scheduler.release(p.key, p.deviceId);
        this.requeueIfReady(p.key);
        continue;
      }
      const readyAt = this.readySince.get(p.key);
      const next = (c.tasks[tid]?.attempts.length ?? 0) + 1;
      const applied = this.record('task.assigned', { id: cid, taskId: tid, attempt: next, deviceId: p.deviceId, placement: explain(p.explanation) });
      if (applied.rejected) {
        this.scheduler.release(p.key, p.deviceId);
        this.requeueIfReady(p.key);
        continue;
      }
      const task = c.tasks[tid] as TaskState;
      const attempt = task.attempts.at(-1)?.number ?? 1;
      device.running.set(p.key, attempt);
      this.dirtyDevices.add(device.id);
      let assign: Body;
      try {
        if (usesArtifacts(task) && session.protocolVersion < ARTIFACTS_VERSION) {
          throw new Error(`ARTIFACT_UNSUPPORTED: device ${device.id} speaks AIP ${session.protocolVersion}; artifacts need ${ARTIFACTS_VERSION} (upgrade the agent)`);
        }
        assign = { type: 'assign', value: buildAssign(c, task, attempt, this.lostAfterMs) };
      } catch (err) {
        // An input that cannot be resolved fails the attempt instead of the engine.
        this.finishAttempt(device, cid, tid, attempt, { outcome: 'failed', error: (err as Error).message, outputs: {} });
        continue;
      }
      this.afterCommit.push(() => {
        session.send(assign);
        this.metrics.tasksDispatched++;
        if (readyAt !== undefined) this.metrics.dispatchLatency.observe((this.now() - readyAt) / 1000);
      });
    }
  }

  private notify(): void {
    if (!this.listeners.size) {
      this.dirty.clear();
      this.dirtyConstellations.clear();
      this.editedConstellations.clear();
      this.dirtyDevices.clear();
      return;
    }
    for (const [cid, taskIds] of this.dirty) {
      const c = this.state.constellations.get(cid);
      if (!c) continue;
      for (const taskId of taskIds) {
        const t = c.tasks[taskId];
        if (t) this.publish({ type: 'task', data: this.taskEventData(c, t) });
      }
    }
    for (const cid of this.dirtyConstellations) {
      const c = this.state.constellations.get(cid);
      if (c) this.publish({ type: 'constellation', data: this.summary(c) });
    }
    for (const cid of this.editedConstellations) {
      const c = this.state.constellations.get(cid);
      if (c) this.publish({ type: 'edit', data: { constellationId: cid, revision: c.revision } });
    }
    for (const id of this.dirtyDevices) {
      const d = this.devices.get(id);
      if (d) this.publish({ type: 'device', data: this.devices.view(d) });
    }
    this.dirtyDevices.clear();
    this.editedConstellations.clear();
    this.dirty.clear();
    this.dirtyConstellations.clear();
  }

  taskEventData(c: Constellation, t: TaskState): Extract<LiveEvent, { type: 'task' }>['data'] {
    const waitingReason = t.status === 'ready' ? this.waitingReason(c.id, t.spec.id) : undefined;
    return {
      constellationId: c.id,
      taskId: t.spec.id,
      status: t.status,
      attempts: t.attempts,
      outputs: t.outputs,
      ...(t.artifacts ? { artifacts: t.artifacts } : {}),
      ...(waitingReason ? { waitingReason } : {}),
      ...(t.progress ? { progress: t.progress } : {}),
    };
  }

  summary(c: Constellation): ConstellationSummary {
    let counts = this.counts.get(c.id);
    if (!counts) {
      counts = countTasks(c);
      this.counts.set(c.id, counts);
    }
    const nonZero: Partial<Record<TaskState['status'], number>> = {};
    for (const [k, v] of Object.entries(counts)) if (v) nonZero[k as TaskState['status']] = v;
    return { id: c.id, name: c.name, status: c.status, revision: c.revision, owner: c.owner, createdAt: c.createdAt, updatedAt: c.updatedAt, counts: nonZero };
  }

  waitingReason(cid: string, taskId: string): string | undefined {
    const c = this.state.constellations.get(cid);
    if (c?.status === 'paused') return 'constellation is paused';
    return this.scheduler.waitingReason(taskKey(cid, taskId), this.now());
  }

  publish(event: LiveEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.log.warn({ err }, 'live listener failed');
      }
    }
  }

  observeCommits(observer: (events: readonly NewEvent[]) => void): void {
    this.observers.push(observer);
  }

  subscribe(listener: (e: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private armWakeTimer(): void {
    const next = this.scheduler.nextWakeAt();
    if (next === undefined || next >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = next;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.wakeTimer = undefined;
      this.scheduleFlush();
    }, Math.max(0, next - this.now()) + 1);
    this.wakeTimer.unref();
  }

  private snapshot(): void {
    try {
      const t0 = Date.now();
      const seq = this.opts.store.lastSeq();
      this.opts.store.writeSnapshot(seq, this.state.serialize());
      this.opts.store.compact();
      this.eventsSinceSnapshot = 0;
      this.lastSnapshotAt = Date.now();
      this.log.debug({ seq, ms: Date.now() - t0 }, 'snapshot written');
    } catch (err) {
      this.log.warn({ err }, 'snapshot failed; the journal still holds everything');
    }
  }

  // ---- agents --------------------------------------------------------------

  /** The end of an attempt, whatever reported it. Frees the slot first, then records. */
  finishAttempt(
    device: DeviceEntry | undefined,
    cid: string,
    tid: string,
    attempt: number,
    r: {
      outcome: EventMap['task.finished']['outcome'];
      exitCode?: number;
      error?: string;
      outputs: Record<string, string>;
      artifacts?: EventMap['task.finished']['artifacts'];
      startedAt?: number;
      endedAt?: number;
    },
  ): void {
    const key = taskKey(cid, tid);
    if (device && device.running.get(key) === attempt) {
      const ran = r.startedAt && r.endedAt ? r.endedAt - r.startedAt : undefined;
      this.releaseSlot(device, key, r.outcome === 'succeeded' ? ran : undefined);
    }
    // Only the device that holds the current attempt may finish it.
    const holder = this.state.constellations.get(cid)?.tasks[tid]?.attempts.find((a) => a.number === attempt)?.deviceId;
    if (device && holder !== undefined && holder !== device.id) {
      this.log.warn({ device: device.id, holder, task: key, attempt }, 'result from a device that does not hold the attempt; ignored');
      return;
    }
    const applied = this.record('task.finished', {
      id: cid,
      taskId: tid,
      attempt,
      outcome: r.outcome,
      outputs: r.outputs,
      endedAt: r.endedAt ?? this.now(),
      jitter: this.random(),
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.artifacts && Object.keys(r.artifacts).length ? { artifacts: r.artifacts } : {}),
      ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    });
    if (applied.rejected?.stale) {
      // The same result delivered again (re-sent after a fresh session) is not news.
      const known = this.state.constellations.get(cid)?.tasks[tid]?.attempts.find((a) => a.number === attempt);
      if (known?.outcome === r.outcome) return;
      this.metrics.staleResults++;
      this.record('task.stale_result', { id: cid, taskId: tid, attempt, outcome: r.outcome });
      this.markDirty(cid, tid);
    }
  }

  /** An attempt will not finish where it was placed (device lost, disowned it). */
  loseAttempt(device: DeviceEntry, key: string, attempt: number, reason: string): void {
    const [cid, tid] = splitKey(key);
    this.releaseSlot(device, key);
    this.record('task.lost', { id: cid, taskId: tid, attempt, reason });
    // If the device is only unreachable, it must stop the attempt when it hears
    // from us again (Cancel is reliable: replayed when its session resumes).
    this.sendCancel(device.id, cid, tid, attempt, reason);
  }

  /**
   * Frees a device's slot for an attempt. A task retried while its old attempt
   * still held the slot could not be queued then: queue it now.
   */
  releaseSlot(device: DeviceEntry, key: string, runtimeMs?: number): void {
    device.running.delete(key);
    this.dirtyDevices.add(device.id);
    this.scheduler.release(key, device.id, runtimeMs);
    this.requeueIfReady(key);
  }

  private requeueIfReady(key: string, delayMs = 0): void {
    const [cid, tid] = splitKey(key);
    const c = this.state.constellations.get(cid);
    const t = c?.tasks[tid];
    if (!c || !t || t.status !== 'ready' || c.status !== 'running') return;
    const now = this.now();
    this.enqueue(c, t, now, true, delayMs ? now + delayMs : undefined);
    this.scheduleFlush();
  }

  /** A device refused an attempt: try again elsewhere, not at once (no assign/reject loop). */
  rejected(device: DeviceEntry | undefined, cid: string, tid: string, attempt: number, code: string, reason: string): void {
    const key = taskKey(cid, tid);
    if (device && device.running.get(key) === attempt) {
      device.running.delete(key);
      this.dirtyDevices.add(device.id);
      this.scheduler.release(key, device.id);
    }
    this.record('task.rejected', { id: cid, taskId: tid, attempt, code, reason });
    // A lasting refusal takes the device out of this task's candidates (no backoff needed: it will not be asked again).
    const lasting = device ? this.refusals.record(key, device.id, device.session, code) : false;
    this.requeueIfReady(key, lasting ? 0 : REJECT_BACKOFF_MS);
  }

  /** A device began a new session: tasks it refused may be placed there again (its configuration may have changed). */
  forgetRefusals(deviceId: string): void {
    for (const key of this.refusals.forgetDevice(deviceId)) this.requeueIfReady(key);
  }

  /** Cancels an attempt on its device, after the events that caused it are committed. */
  sendCancel(deviceId: string, cid: string, tid: string, attempt: number, reason: string): void {
    this.afterCommit.push(() =>
      this.devices.get(deviceId)?.session?.send({ type: 'cancel', value: { constellationId: cid, taskId: tid, attempt, reason } }),
    );
    this.scheduleFlush();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }
}


function explain(e: { reason: string; parts: Record<string, number>; candidates: number }): string {
  const parts = Object.entries(e.parts)
    .map(([k, v]) => `${k}=${Math.round(v * 100) / 100}`)
    .join(' ');
  return `${e.reason} (${e.candidates} candidates; ${parts})`;
}

function countTasks(c: Constellation): Partial<Record<TaskState['status'], number>> {
  const counts: Partial<Record<TaskState['status'], number>> = {};
  for (const t of Object.values(c.tasks)) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return counts;
}
