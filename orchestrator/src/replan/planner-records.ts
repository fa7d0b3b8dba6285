// The planner's SQLite tables (store migration 4): every planner call for
// audit, and replan proposals with their decisions. Same database file as
// the journal; written outside the engine's tick (planner calls are rare).
import type { Database, Statement } from 'better-sqlite3';
import type { EditOperation } from '../model/types.js';
import type { PlannerKind } from '../planner/types.js';
import { toStoreError } from '../store/errors.js';
import type { PlannerCallRetention } from './planner-retention.js';

export interface PlannerCallRecord {
  id: number;
  at: number;
  /** What was asked: a plan from a sentence, or a replan of a constellation. */
  kind: 'plan' | 'replan';
  planner: PlannerKind;
  model?: string;
  constellationId?: string;
  requestedBy: string;
  prompt: string;
  response: string;
  /** ok, proposed, applied, no_change, or the error code. */
  outcome: string;
  error?: string;
  durationMs: number;
}

export type ProposalStatus = 'pending' | 'applied' | 'rejected' | 'stale' | 'failed';

export interface Proposal {
  id: string;
  constellationId: string;
  createdAt: number;
  /** The revision the planner saw; approval applies the batch against it. */
  revision: number;
  taskId?: string;
  trigger: 'failure' | 'request';
  planner: PlannerKind;
  model?: string;
  comment: string;
  operations: EditOperation[];
  status: ProposalStatus;
  callId?: number;
  decidedAt?: number;
  decidedBy?: string;
  error?: string;
  appliedRevision?: number;
}

interface CallRow {
  id: number;
  at: number;
  kind: string;
  planner: string;
  model: string | null;
  constellation_id: string | null;
  requested_by: string;
  prompt: string;
  response: string;
  outcome: string;
  error: string | null;
  duration_ms: number;
}

interface ProposalRow {
  id: string;
  constellation_id: string;
  created_at: number;
  revision: number;
  task_id: string | null;
  trigger: string;
  planner: string;
  model: string | null;
  comment: string;
  operations: string;
  status: string;
  call_id: number | null;
  decided_at: number | null;
  decided_by: string | null;
  error: string | null;
  applied_revision: number | null;
}

const opt = <K extends string, V>(key: K, v: V | null): { [k in K]?: V } =>
  v === null ? {} : ({ [key]: v } as { [k in K]?: V });

function toCall(r: CallRow): PlannerCallRecord {
  return {
    id: r.id,
    at: r.at,
    kind: r.kind as PlannerCallRecord['kind'],
    planner: r.planner as PlannerKind,
    ...opt('model', r.model),
    ...opt('constellationId', r.constellation_id),
    requestedBy: r.requested_by,
    prompt: r.prompt,
    response: r.response,
    outcome: r.outcome,
    ...opt('error', r.error),
    durationMs: r.duration_ms,
  };
}

function toProposal(r: ProposalRow): Proposal {
  return {
    id: r.id,
    constellationId: r.constellation_id,
    createdAt: r.created_at,
    revision: r.revision,
    ...opt('taskId', r.task_id),
    trigger: r.trigger as Proposal['trigger'],
    planner: r.planner as PlannerKind,
    ...opt('model', r.model),
    comment: r.comment,
    operations: JSON.parse(r.operations) as EditOperation[],
    status: r.status as ProposalStatus,
    ...opt('callId', r.call_id),
    ...opt('decidedAt', r.decided_at),
    ...opt('decidedBy', r.decided_by),
    ...opt('error', r.error),
    ...opt('appliedRevision', r.applied_revision),
  };
}

export class PlannerRecords {
  private readonly insertCall: Statement;
  private readonly callsAll: Statement;
  private readonly callsFor: Statement;
  private readonly insertProposal: Statement;
  private readonly proposalById: Statement;
  private readonly proposalsFor: Statement;
  private readonly countFor: Statement;
  private readonly decide: Statement;

  /** `retention` is told of each insert and prunes the audit log off the hot path. */
  constructor(
    db: Database,
    private readonly retention?: PlannerCallRetention,
  ) {
    this.insertCall = db.prepare(
      `INSERT INTO planner_calls (at, kind, planner, model, constellation_id, requested_by, prompt, response, outcome, error, duration_ms)
       VALUES (@at, @kind, @planner, @model, @constellationId, @requestedBy, @prompt, @response, @outcome, @error, @durationMs)`,
    );
    this.callsAll = db.prepare('SELECT * FROM planner_calls WHERE id < ? ORDER BY id DESC LIMIT ?');
    this.callsFor = db.prepare(
      'SELECT * FROM planner_calls WHERE constellation_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
    );
    this.insertProposal = db.prepare(
      `INSERT INTO replan_proposals (id, constellation_id, created_at, revision, task_id, trigger, planner, model, comment, operations, status, call_id)
       VALUES (@id, @constellationId, @createdAt, @revision, @taskId, @trigger, @planner, @model, @comment, @operations, @status, @callId)`,
    );
    this.proposalById = db.prepare('SELECT * FROM replan_proposals WHERE id = ?');
    this.proposalsFor = db.prepare('SELECT * FROM replan_proposals WHERE constellation_id = ? ORDER BY created_at, id');
    this.countFor = db.prepare('SELECT COUNT(*) AS n FROM replan_proposals WHERE constellation_id = ?');
    this.decide = db.prepare(
      `UPDATE replan_proposals SET status = @status, decided_at = @decidedAt, decided_by = @decidedBy, error = @error,
         applied_revision = @appliedRevision WHERE id = @id AND status = 'pending'`,
    );
  }

  private guard<T>(what: string, run: () => T): T {
    try {
      return run();
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  recordCall(c: Omit<PlannerCallRecord, 'id'>): number {
    const id = this.guard('recording a planner call', () =>
      Number(
        this.insertCall.run({
          ...c,
          model: c.model ?? null,
          constellationId: c.constellationId ?? null,
          error: c.error ?? null,
        }).lastInsertRowid,
      ),
    );
    this.retention?.requestPrune();
    return id;
  }

  /** Newest first; `before` pages back by id. */
  listCalls(q: { constellationId?: string; before?: number; limit?: number } = {}): PlannerCallRecord[] {
    const before = q.before ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
    return this.guard('listing planner calls', () =>
      (
        (q.constellationId
          ? this.callsFor.all(q.constellationId, before, limit)
          : this.callsAll.all(before, limit)) as CallRow[]
      ).map(toCall),
    );
  }

  addProposal(p: Proposal): void {
    this.guard('saving a replan proposal', () =>
      this.insertProposal.run({
        ...p,
        taskId: p.taskId ?? null,
        model: p.model ?? null,
        callId: p.callId ?? null,
        operations: JSON.stringify(p.operations),
      }),
    );
  }

  getProposal(id: string): Proposal | undefined {
    const row = this.guard('reading a replan proposal', () => this.proposalById.get(id) as ProposalRow | undefined);
    return row ? toProposal(row) : undefined;
  }

  listProposals(constellationId: string): Proposal[] {
    return this.guard('listing replan proposals', () =>
      (this.proposalsFor.all(constellationId) as ProposalRow[]).map(toProposal),
    );
  }

  countProposals(constellationId: string): number {
    return this.guard('counting replan proposals', () => (this.countFor.get(constellationId) as { n: number }).n);
  }

  /** Decides a pending proposal; false when it was already decided. */
  decideProposal(
    id: string,
    d: {
      status: Exclude<ProposalStatus, 'pending'>;
      decidedAt: number;
      decidedBy: string;
      error?: string;
      appliedRevision?: number;
    },
  ): boolean {
    return this.guard(
      'deciding a replan proposal',
      () =>
        this.decide.run({ ...d, id, error: d.error ?? null, appliedRevision: d.appliedRevision ?? null }).changes === 1,
    );
  }
}
