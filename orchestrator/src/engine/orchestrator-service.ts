// The API-facing operations, implemented on the engine. Writes answer only
// after their events are committed to the journal.
import { customAlphabet } from 'nanoid';
import type { ConstellationSummary, DeviceView, LiveListener } from '../api/live-events.js';
import type { AdminService, EditRecordView, OrchestratorService, Role, TaskView } from '../api/service.js';
import { notFound, OrreryError } from '../errors.js';
import { GraphError, normaliseGraph, parseGraph } from '../graph/index.js';
import { resolveTaskForDispatch } from '../model/index.js';
import type { Constellation, EditBatch, GraphSpec, ReplanPolicy } from '../model/types.js';
import type { OrchestratorStore } from '../store/index.js';
import type { Engine } from './engine.js';
import { counter, gauge } from './metrics.js';
import { toSchedDevice } from './sched-mapping.js';

const constellationId = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 10);

const HELD_ANSWER_MS = 3000;

const EDIT_STATUS: Record<string, number> = { EDIT_REVISION_CONFLICT: 409, EDIT_UNKNOWN_TASK: 422 };

export class EngineService implements OrchestratorService, AdminService {
  constructor(
    private readonly engine: Engine,
    private readonly store: OrchestratorStore,
  ) {}

  /** Parses and validates a graph document without submitting it. */
  validate(document: unknown, opts: { source?: string; format?: 'yaml' | 'json' } = {}): GraphSpec {
    try {
      return opts.source !== undefined ? parseGraph(opts.source, opts.format ? { format: opts.format } : {}) : normaliseGraph(document);
    } catch (err) {
      if (err instanceof GraphError) {
        const first = err.issues[0];
        throw new OrreryError(first?.code ?? 'GRAPH_INVALID', err.message, {
          status: 422,
          issues: err.issues,
          hint: 'See docs/graph-format.md; nothing was stored.',
        });
      }
      throw err;
    }
  }

  submit(
    document: unknown,
    opts: { owner: string; source?: string; format?: 'yaml' | 'json'; inputs?: Record<string, string>; replan?: ReplanPolicy },
  ): Promise<Constellation> {
    this.writable();
    const spec = this.validate(document, opts);
    if (opts.replan) spec.replan = opts.replan;
    if (opts.inputs) {
      for (const k of Object.keys(opts.inputs)) {
        if (!(k in spec.inputs)) throw new OrreryError('GRAPH_UNKNOWN_INPUT', `The graph declares no input ${JSON.stringify(k)}`, { status: 422 });
      }
      Object.assign(spec.inputs, opts.inputs);
    }
    const id = constellationId();
    this.engine.record('constellation.submitted', { id, owner: opts.owner, spec });
    return this.afterCommit(() => this.get(id));
  }

  list(): ConstellationSummary[] {
    return [...this.engine.state.constellations.values()].map((c) => this.engine.summary(c)).sort((a, b) => b.createdAt - a.createdAt);
  }

  summary(id: string): ConstellationSummary {
    const c = this.engine.state.constellations.get(id);
    if (!c) throw notFound('constellation', id);
    return this.engine.summary(c);
  }

  get(id: string): Constellation {
    const c = this.engine.state.constellations.get(id);
    if (!c) throw notFound('constellation', id);
    // Waiting reasons are derived from the scheduler at read time.
    const tasks: Constellation['tasks'] = {};
    for (const [tid, t] of Object.entries(c.tasks)) {
      const why = t.status === 'ready' ? this.engine.waitingReason(id, tid) : undefined;
      tasks[tid] = why ? { ...t, waitingReason: why } : t;
    }
    return { ...c, tasks };
  }

  task(id: string, taskId: string): TaskView {
    const c = this.liveConstellation(id);
    const t = Object.hasOwn(c.tasks, taskId) ? c.tasks[taskId] : undefined;
    if (!t) throw notFound('task', taskId);
    const why = t.status === 'ready' ? this.engine.waitingReason(id, taskId) : undefined;
    const view: TaskView = why ? { ...t, waitingReason: why } : { ...t };
    // Resolved the way buildAssign does; before the task is ready an upstream may still change the values.
    if (t.status === 'ready' || t.attempts.length > 0) {
      try {
        view.resolved = resolveTaskForDispatch(c, taskId);
      } catch {
        // Unresolvable now (the attempt failed for it, and says so): show the spec only.
      }
    }
    return view;
  }

  edit(id: string, batch: EditBatch, author: string): Promise<Constellation> {
    this.writable();
    this.liveConstellation(id);
    const applied = this.engine.record('edit.applied', { id, batch, author });
    if (applied.rejected) {
      const r = applied.rejected;
      throw new OrreryError(r.code, r.message, {
        status: EDIT_STATUS[r.code] ?? 422,
        issues: [{ code: r.code, message: r.message, ...(r.operationIndex !== undefined && r.operationIndex >= 0 ? { path: `/operations/${r.operationIndex}` } : {}) }],
        hint: r.code === 'EDIT_REVISION_CONFLICT' ? 'Fetch the constellation, rebase your edit on its revision and send it again.' : 'Nothing was changed.',
      });
    }
    // Only what the batch touched is re-queued: an edit costs O(affected).
    const touched = new Set(applied.changes.map((ch) => ch.taskId));
    for (const op of batch.operations) {
      if ('taskId' in op) touched.add(op.taskId);
      if (op.op === 'add_task' || op.op === 'update_task') touched.add(op.task.id);
      if (op.op === 'add_dependency') touched.add(op.dependency.to);
      if (op.op === 'remove_dependency') touched.add(op.to);
    }
    this.engine.syncQueue(this.liveConstellation(id), touched);
    return this.afterCommit(() => this.get(id));
  }

  history(id: string): EditRecordView[] {
    this.liveConstellation(id);
    return (this.engine.state.history.get(id) ?? []) as EditRecordView[];
  }

  cancel(id: string, by: string): Promise<Constellation> {
    return this.lifecycle(id, 'constellation.cancelled', by);
  }

  pause(id: string, by: string): Promise<Constellation> {
    return this.lifecycle(id, 'constellation.paused', by);
  }

  resume(id: string, by: string): Promise<Constellation> {
    return this.lifecycle(id, 'constellation.resumed', by);
  }

  retryTask(id: string, taskId: string, author: string): Promise<Constellation> {
    const c = this.liveConstellation(id);
    return this.edit(id, { revision: c.revision, operations: [{ op: 'retry_task', taskId }], comment: `retry ${taskId}` }, author);
  }

  logs(id: string, taskId: string, attempt?: number): string {
    const c = this.liveConstellation(id);
    if (!Object.hasOwn(c.tasks, taskId)) throw notFound('task', taskId);
    let text = '';
    let afterId = 0;
    for (;;) {
      const chunks = this.store.readLogs(id, taskId, { ...(attempt !== undefined ? { attempt } : {}), afterId, limit: 1000 });
      for (const ch of chunks) {
        if (ch.droppedBefore) text += `\n… ${ch.droppedBefore} bytes of output dropped (log cap) …\n`;
        text += ch.data.toString('utf8');
        afterId = ch.id;
      }
      if (chunks.length < 1000) return text;
    }
  }

  devices(): DeviceView[] {
    return [...this.engine.devices.all()].map((d) => this.engine.devices.view(d));
  }

  drainDevice(idOrName: string): DeviceView {
    const d = this.engine.devices.find(idOrName);
    if (!d) throw notFound('device', idOrName);
    d.drainRequested = true;
    if (d.status === 'online') d.status = 'draining';
    this.engine.scheduler.upsertDevice(toSchedDevice(d));
    d.session?.send({ type: 'drain', value: { reason: 'drained by an operator' } });
    const view = this.engine.devices.view(d);
    this.engine.publish({ type: 'device', data: view });
    return view;
  }

  revokeDevice(idOrName: string): DeviceView {
    const d = this.engine.devices.find(idOrName);
    const id = d?.id ?? idOrName;
    const known = this.store.revokeDevice(id);
    if (!d && !known) throw notFound('device', idOrName);
    d?.session?.terminate('AIP_REVOKED', 'this device was revoked by an administrator');
    if (d) return this.engine.devices.view(d);
    // Known only to the store (not connected since this orchestrator started).
    const rec = this.store.getDevice(id);
    return {
      id,
      name: rec?.name ?? id,
      status: 'offline',
      labels: rec?.labels ?? [],
      os: '',
      arch: '',
      features: [],
      slots: 0,
      running: 0,
      lastHeartbeatAt: rec?.lastSeenAt ?? null,
      connectedAt: null,
    };
  }

  subscribe(listener: LiveListener): () => void {
    return this.engine.subscribe(listener);
  }

  health(): { status: 'ok' | 'degraded'; detail?: string } {
    const f = this.engine.storeFailure;
    return f ? { status: 'degraded', detail: `journal not writable: ${f.message}` } : { status: 'ok' };
  }

  metrics(): string {
    const e = this.engine;
    const byTask = new Map<string, number>();
    for (const c of e.state.constellations.values()) {
      for (const [status, n] of Object.entries(e.summary(c).counts)) byTask.set(status, (byTask.get(status) ?? 0) + (n ?? 0));
    }
    const byDevice = new Map<string, number>();
    for (const d of e.devices.all()) byDevice.set(d.status, (byDevice.get(d.status) ?? 0) + 1);
    const stats = e.scheduler.stats();
    return [
      gauge('orrery_tasks', 'Tasks by state, all constellations', [...byTask].map(([s, n]) => [{ state: s }, n])),
      gauge('orrery_devices', 'Devices by state', [...byDevice].map(([s, n]) => [{ state: s }, n])),
      gauge('orrery_queue_depth', 'Ready tasks waiting for a device', [[{}, stats.queued]]),
      gauge('orrery_free_slots', 'Free slots on online devices', [[{}, stats.freeSlots]]),
      e.metrics.dispatchLatency.render(),
      e.metrics.commitTime.render(),
      counter('orrery_journal_events_total', 'Events committed to the journal', e.metrics.eventsJournaled),
      counter('orrery_tasks_dispatched_total', 'Assign messages sent', e.metrics.tasksDispatched),
      counter('orrery_stale_results_total', 'Results from superseded attempts, ignored', e.metrics.staleResults),
      counter('orrery_devices_lost_total', 'Devices declared lost after missed heartbeats', e.metrics.devicesLost),
      ...e.metrics.extra.map((render) => render()),
      '',
    ].join('\n');
  }

  // ---- admin ---------------------------------------------------------------

  createEnrollmentToken(o: { expiresInMs?: number; maxUses?: number; labels?: string[] }): { id: string; token: string } {
    const t = this.store.createEnrollmentToken({
      ...(o.expiresInMs ? { expiresAt: Date.now() + o.expiresInMs } : {}),
      ...(o.maxUses ? { maxUses: o.maxUses } : {}),
      labels: o.labels ?? [],
    });
    return { id: t.info.id, token: t.token };
  }

  listEnrollmentTokens(): unknown[] {
    return this.store.listEnrollmentTokens();
  }

  createApiToken(o: { role: Role; name?: string }): { id: string; token: string } {
    const t = this.store.createApiToken({ role: o.role, ...(o.name ? { name: o.name } : {}) });
    return { id: t.info.id, token: t.token };
  }

  verifyApiToken(token: string): Role | undefined {
    return this.store.verifyApiToken(token);
  }

  // ---- helpers -------------------------------------------------------------

  private lifecycle(id: string, type: 'constellation.cancelled' | 'constellation.paused' | 'constellation.resumed', by: string): Promise<Constellation> {
    this.writable();
    const current = this.liveConstellation(id);
    if (type === 'constellation.cancelled' && ['succeeded', 'failed', 'cancelled'].includes(current.status)) {
      throw new OrreryError('INVALID_TRANSITION', `The constellation already ${current.status === 'cancelled' ? 'was cancelled' : current.status}`, {
        status: 409,
        hint: 'A finished constellation keeps its outcome; retry a task to run it again.',
      });
    }
    const applied = this.engine.record(type, { id, by });
    if (applied.rejected) throw new OrreryError('INVALID_TRANSITION', applied.rejected.message, { status: 409 });
    this.engine.syncQueue(this.liveConstellation(id));
    return this.afterCommit(() => this.get(id));
  }

  private liveConstellation(id: string): Constellation {
    const c = this.engine.state.constellations.get(id);
    if (!c) throw notFound('constellation', id);
    return c;
  }

  private writable(): void {
    const f = this.engine.storeFailure;
    if (f) {
      throw new OrreryError('STORE_UNAVAILABLE', `The journal cannot be written: ${f.message}`, {
        status: 503,
        hint: 'Free disk space under the data directory; the orchestrator resumes by itself.',
      });
    }
  }

  /**
   * Answers once the change is journaled. If the journal is failing (a full
   * disk), the change is held in memory and retried; after HELD_ANSWER_MS the
   * caller gets 202 with `durability: "held"` rather than an error, because
   * the change will be stored once the journal recovers (so: do not resend).
   */
  private async afterCommit(read: () => Constellation): Promise<Constellation & { durability?: 'held' }> {
    const committed = this.engine.committed().then(() => true);
    const timer = new Promise<false>((r) => setTimeout(() => r(false), HELD_ANSWER_MS).unref());
    const done = await Promise.race([committed, timer]);
    return done ? read() : { ...read(), durability: 'held' };
  }
}
