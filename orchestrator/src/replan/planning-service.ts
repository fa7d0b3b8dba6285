// Planning as the API offers it: plan a sentence, replan a constellation
// (on request, or by itself when a task fails for good and the policy asks
// for it), proposals and their approval, and the audit log of every planner
// call. Replanning never runs inside the engine's tick: failures are queued
// from live events and handled asynchronously, one constellation at a time,
// and results are applied through the normal edit path.
import { customAlphabet } from 'nanoid';
import type { Logger } from 'pino';
import type { LiveEvent } from '../api/live-events.js';
import type { OrchestratorService } from '../api/service.js';
import { notFound, OrreryError } from '../errors.js';
import type { Constellation, ReplanPolicy } from '../model/types.js';
import { BuiltinPlanner } from '../planner/builtin-planner.js';
import { checkEditBatch, editableCopy } from '../planner/edit-check.js';
import type {
  DeviceProfile,
  Planner,
  PlannerKind,
  PlannerTranscript,
  PlanResult,
  ReplanRequest,
} from '../planner/types.js';
import { autoApplyProblem } from './auto-policy.js';
import type { PlannerCallRecord, PlannerRecords, Proposal } from './planner-records.js';

const proposalId = customAlphabet('0123456789abcdefghijklmnopqrstuvwxyz', 10);

/** Bytes of the failed attempt's log given to the planner. */
const LOG_TAIL_BYTES = 4000;

export interface PlanningServiceOptions {
  service: OrchestratorService;
  planner: Planner;
  records: PlannerRecords;
  devices(): DeviceProfile[];
  publish(event: LiveEvent): void;
  logger: Logger;
  /** Most proposals per constellation, automatic or requested (default 5). */
  maxProposals?: number;
}

export interface ReplanAnswer {
  /** Null when the planner proposed no change. */
  proposal: Proposal | null;
  comment: string;
}

export class PlanningService {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly builtin = new BuiltinPlanner();
  /** Failures already handed to the replanner (constellation/task/attempts). */
  private readonly seen = new Set<string>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly opts: PlanningServiceOptions) {}

  get maxProposals(): number {
    return this.opts.maxProposals ?? 5;
  }

  /** Starts replanning on failures for constellations whose policy asks for it. */
  start(): void {
    this.unsubscribe = this.opts.service.subscribe((event) => {
      if (event.type !== 'task' || (event.data.status !== 'failed' && event.data.status !== 'timed_out')) return;
      const { constellationId, taskId, attempts } = event.data;
      // Off the engine's call stack: the listener returns at once.
      setImmediate(() => this.onFailure(constellationId, taskId, attempts.length));
    });
  }

  /**
   * Stops reacting to failures and gives replans in flight a moment to
   * finish; a slow model must not hold a shutdown (an unfinished replan is
   * recorded nowhere and simply not proposed).
   */
  async close(graceMs = 2000): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.queues.values()]), grace]);
  }

  // ---- planning ------------------------------------------------------------

  /**
   * Plans with the configured planner, or with the one asked for: the
   * built-in planner is always there; the LLM only when configured.
   */
  async plan(sentence: string, requestedBy: string, want?: PlannerKind): Promise<PlanResult> {
    const planner = this.plannerFor(want);
    const devices = this.opts.devices();
    return this.audited({ kind: 'plan', requestedBy, planner }, async (transcript) => {
      const result = await planner.plan(sentence, devices, transcript);
      return { result, outcome: 'ok' };
    });
  }

  private plannerFor(want: PlannerKind | undefined): Planner {
    if (!want || want === this.opts.planner.identity.kind) return this.opts.planner;
    if (want === 'builtin') return this.builtin;
    throw new OrreryError('PLANNER_UNAVAILABLE', 'No LLM endpoint is configured on this server', {
      status: 503,
      hint: 'Start the server with --llm-base-url (or ORRERY_LLM_BASE_URL), or use the built-in planner.',
    });
  }

  // ---- replanning ----------------------------------------------------------

  /** Replans on request; the policy decides whether the proposal is applied at once (auto) or kept. */
  replan(constellationId: string, opts: { hint?: string; requestedBy: string }): Promise<ReplanAnswer> {
    const c = this.opts.service.get(constellationId);
    if (c.status === 'cancelled') {
      throw new OrreryError('INVALID_TRANSITION', 'The constellation was cancelled: there is nothing to replan', {
        status: 409,
      });
    }
    return this.serially(constellationId, () =>
      this.replanNow(constellationId, {
        trigger: 'request',
        requestedBy: opts.requestedBy,
        ...(opts.hint ? { hint: opts.hint } : {}),
      }),
    );
  }

  private onFailure(constellationId: string, taskId: string, attempts: number): void {
    if (this.closed) return;
    let c: Constellation;
    try {
      c = this.opts.service.get(constellationId);
    } catch {
      return;
    }
    const policy: ReplanPolicy = c.replan ?? 'off';
    if (policy === 'off' || c.status === 'cancelled') return;
    // A failure with a `failure` handler is part of the plan, not something to repair.
    if (c.dependencies.some((d) => d.from === taskId && d.kind === 'failure')) return;
    // Each failure (task and attempt count) is handed to the replanner once.
    const key = `${constellationId}/${taskId}/${attempts}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    void this.serially(constellationId, () =>
      this.replanNow(constellationId, { trigger: 'failure', taskId, requestedBy: `engine (task ${taskId} failed)` }),
    ).catch((err: unknown) => {
      const e = err as OrreryError;
      this.opts.logger.warn(
        { constellation: constellationId, task: taskId, code: e.code, err: e.message },
        'replanning after a failure did not produce a proposal',
      );
    });
  }

  /** One replan at a time per constellation, so proposals never race each other. */
  private serially<T>(constellationId: string, job: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(constellationId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(job);
    const tail = next.catch(() => undefined);
    this.queues.set(constellationId, tail);
    void tail.then(() => {
      if (this.queues.get(constellationId) === tail) this.queues.delete(constellationId);
    });
    return next;
  }

  private async replanNow(
    constellationId: string,
    r: { trigger: 'failure' | 'request'; taskId?: string; hint?: string; requestedBy: string },
  ): Promise<ReplanAnswer> {
    if (this.opts.records.countProposals(constellationId) >= this.maxProposals) {
      throw new OrreryError(
        'REPLAN_LIMIT_REACHED',
        `Constellation ${constellationId} already has ${this.maxProposals} replan proposals`,
        {
          status: 409,
          hint: 'Decide on the existing proposals (`orrery proposals <id>`) and edit the graph by hand; the limit stops a failing loop from spinning.',
        },
      );
    }
    // The API view has its own task map; TaskStates are replaced, never mutated, so this is a stable snapshot.
    const c = editableCopy(this.opts.service.get(constellationId));
    if (r.trigger === 'failure' && r.taskId) {
      const t = c.tasks[r.taskId];
      // Retried or changed meanwhile: the failure is no longer current.
      if (!t || (t.status !== 'failed' && t.status !== 'timed_out'))
        return { proposal: null, comment: `task ${r.taskId} is no longer failed` };
    }
    const devices = this.opts.devices();
    const request: ReplanRequest = {
      constellationId,
      revision: c.revision,
      state: c,
      devices,
      ...(r.hint ? { hint: r.hint } : {}),
    };
    const failedId =
      r.taskId ?? Object.entries(c.tasks).find(([, t]) => t.status === 'failed' || t.status === 'timed_out')?.[0];
    if (failedId) request.failure = this.describeFailure(c, failedId);
    let callId = 0;
    const planned = await this.audited(
      { kind: 'replan', constellationId, requestedBy: r.requestedBy, onRecorded: (id) => (callId = id) },
      async (transcript) => {
        const result = await this.opts.planner.replan(request, transcript);
        // The built-in planner's batches are checked here; the LLM planner checked (and repaired) its own.
        const problems = result.operations.length > 0 ? checkEditBatch(c, result.operations, devices) : [];
        if (problems.length > 0) {
          throw new OrreryError('PLANNER_INVALID_OUTPUT', `The proposed edit would not apply: ${problems.join('; ')}`, {
            status: 422,
          });
        }
        return { result, outcome: result.operations.length === 0 ? 'no_change' : 'proposed' };
      },
    );
    if (planned.operations.length === 0) return { proposal: null, comment: planned.comment };
    const auto = (this.opts.service.get(constellationId).replan ?? 'off') === 'auto';
    // The planner read task logs and outputs: under auto, only edits that add no new command apply unseen.
    const held = auto ? autoApplyProblem(c, planned.operations, failedId) : null;
    const proposal: Proposal = {
      id: `p-${proposalId()}`,
      constellationId,
      createdAt: Date.now(),
      revision: c.revision,
      ...(failedId ? { taskId: failedId } : {}),
      trigger: r.trigger,
      planner: planned.planner.kind,
      ...(planned.planner.model ? { model: planned.planner.model } : {}),
      comment: held
        ? `${planned.comment} [not applied automatically: ${held}; only retry, skip, cancel and the failed task's timeout, target or retries apply under auto. Approve it to apply.]`
        : planned.comment,
      operations: planned.operations,
      status: 'pending',
      ...(callId ? { callId } : {}),
    };
    this.opts.records.addProposal(proposal);
    this.announce(proposal);
    this.opts.logger.info(
      { constellation: constellationId, proposal: proposal.id, comment: proposal.comment },
      'replan proposal created',
    );
    if (held) {
      this.opts.logger.warn(
        { constellation: constellationId, proposal: proposal.id, why: held },
        'auto replan held for approval: the edit could run a new command',
      );
    }
    if (auto && !held) {
      try {
        return { proposal: await this.approve(proposal.id, 'auto (replan policy)'), comment: planned.comment };
      } catch (err) {
        const e = err as OrreryError;
        this.opts.logger.warn(
          { constellation: constellationId, proposal: proposal.id, code: e.code, err: e.message },
          'auto replan could not be applied',
        );
        return { proposal: this.getProposal(proposal.id), comment: planned.comment };
      }
    }
    return { proposal, comment: planned.comment };
  }

  private describeFailure(c: Constellation, taskId: string): NonNullable<ReplanRequest['failure']> {
    const t = c.tasks[taskId]!;
    const last = t.attempts.at(-1);
    let logTail = '';
    try {
      const log = this.opts.service.logs(c.id, taskId, last?.number);
      logTail = log.length > LOG_TAIL_BYTES ? `…${log.slice(-LOG_TAIL_BYTES)}` : log;
    } catch {
      logTail = '';
    }
    return {
      taskId,
      status: t.status,
      ...(last?.error ? { error: last.error } : {}),
      ...(last?.exitCode !== undefined ? { exitCode: last.exitCode } : {}),
      ...(last?.deviceId ? { deviceId: last.deviceId } : {}),
      logTail,
    };
  }

  // ---- proposals -----------------------------------------------------------

  getProposal(id: string): Proposal {
    const p = this.opts.records.getProposal(id);
    if (!p) throw notFound('proposal', id);
    return p;
  }

  listProposals(constellationId: string): Proposal[] {
    this.opts.service.get(constellationId);
    return this.opts.records.listProposals(constellationId);
  }

  /**
   * Applies a pending proposal through the edit API, against the revision
   * the planner saw: if the constellation was edited since, the proposal is
   * stale (409) and nothing changes.
   */
  async approve(id: string, by: string): Promise<Proposal> {
    const p = this.pending(id);
    const c = this.opts.service.get(p.constellationId);
    if (c.revision !== p.revision) {
      this.decide(p, {
        status: 'stale',
        decidedBy: by,
        error: `made against revision ${p.revision}; the constellation is at ${c.revision}`,
      });
      throw new OrreryError(
        'PROPOSAL_STALE',
        `Proposal ${id} was made against revision ${p.revision}, the constellation is now at revision ${c.revision}`,
        {
          status: 409,
          hint: `Replan again: \`orrery replan ${p.constellationId}\`.`,
        },
      );
    }
    try {
      const edited = await this.opts.service.edit(
        p.constellationId,
        { revision: p.revision, operations: p.operations, comment: `replan ${id}: ${p.comment}` },
        `planner:${p.planner} (${id}, approved by ${by})`,
      );
      return this.decide(p, { status: 'applied', decidedBy: by, appliedRevision: edited.revision });
    } catch (err) {
      const e = err as OrreryError;
      const stale = e.code === 'EDIT_REVISION_CONFLICT';
      this.decide(p, {
        status: stale ? 'stale' : 'failed',
        decidedBy: by,
        error: `${e.code ?? 'ERROR'}: ${e.message}`,
      });
      throw err;
    }
  }

  reject(id: string, by: string, reason?: string): Proposal {
    return this.decide(this.pending(id), { status: 'rejected', decidedBy: by, ...(reason ? { error: reason } : {}) });
  }

  private pending(id: string): Proposal {
    const p = this.getProposal(id);
    if (p.status !== 'pending') {
      throw new OrreryError('PROPOSAL_DECIDED', `Proposal ${id} is already ${p.status}`, { status: 409 });
    }
    return p;
  }

  private decide(
    p: Proposal,
    d: {
      status: 'applied' | 'rejected' | 'stale' | 'failed';
      decidedBy: string;
      error?: string;
      appliedRevision?: number;
    },
  ): Proposal {
    if (!this.opts.records.decideProposal(p.id, { ...d, decidedAt: Date.now() })) {
      throw new OrreryError('PROPOSAL_DECIDED', `Proposal ${p.id} was decided meanwhile`, { status: 409 });
    }
    const decided = this.getProposal(p.id);
    this.announce(decided);
    return decided;
  }

  private announce(p: Proposal): void {
    this.opts.publish({
      type: 'proposal',
      data: { constellationId: p.constellationId, id: p.id, status: p.status, comment: p.comment },
    });
  }

  // ---- audit ---------------------------------------------------------------

  listCalls(q: { constellationId?: string; before?: number; limit?: number }): PlannerCallRecord[] {
    return this.opts.records.listCalls(q);
  }

  /** Runs one planner call and records it (prompt, response, outcome, duration, who asked), success or not. */
  private async audited<T>(
    meta: {
      kind: 'plan' | 'replan';
      constellationId?: string;
      requestedBy: string;
      planner?: Planner;
      onRecorded?: (id: number) => void;
    },
    call: (transcript: PlannerTranscript) => Promise<{ result: T; outcome: string }>,
  ): Promise<T> {
    const transcript: PlannerTranscript = { prompt: '', response: '' };
    const started = Date.now();
    const identity = (meta.planner ?? this.opts.planner).identity;
    const record = (outcome: string, error?: string): void => {
      try {
        const id = this.opts.records.recordCall({
          at: started,
          kind: meta.kind,
          planner: identity.kind,
          ...(identity.model ? { model: identity.model } : {}),
          ...(meta.constellationId ? { constellationId: meta.constellationId } : {}),
          requestedBy: meta.requestedBy,
          prompt: transcript.prompt,
          response: transcript.response,
          outcome,
          ...(error ? { error } : {}),
          durationMs: Date.now() - started,
        });
        meta.onRecorded?.(id);
      } catch (err) {
        this.opts.logger.error({ err }, 'could not record a planner call for audit');
      }
    };
    try {
      const { result, outcome } = await call(transcript);
      record(outcome);
      return result;
    } catch (err) {
      const e = err as OrreryError;
      record(e.code ?? 'INTERNAL', e.message);
      throw err;
    }
  }
}
