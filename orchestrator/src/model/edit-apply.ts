// Edit batches: validated and applied as one transaction against the
// revision the editor saw. On success the constellation is changed in place
// (revision + 1) and an EditRecord describes the batch; on failure every
// change is rolled back, so the constellation is exactly as before.

import { EditRejection, type EditError } from './edit-errors.js';
import { applyOperation, type OpContext, runRefChecks } from './edit-ops.js';
import { Mutation, type VisitCounter } from './mutation.js';
import { refreshStatus } from './propagate.js';
import type { Constellation, ConstellationStatus, EditBatch, EditOperation, EditRecord, TaskChange } from './types.js';

export type EditResult =
  | {
      ok: true;
      constellation: Constellation;
      changes: TaskChange[];
      record: EditRecord;
      status?: { from: ConstellationStatus; to: ConstellationStatus };
    }
  | { ok: false; error: EditError };

export interface EditOptions {
  /** Counts nodes visited (to check that an edit costs O(affected)). */
  counter?: VisitCounter;
}

export function applyEdit(c: Constellation, batch: EditBatch, now: number, opts: EditOptions = {}): EditResult {
  if (!batch || typeof batch !== 'object' || !Array.isArray(batch.operations)) {
    return {
      ok: false,
      error: { code: 'EDIT_INVALID', message: 'an edit batch needs operations', operationIndex: -1 },
    };
  }
  if (batch.revision !== c.revision) {
    return {
      ok: false,
      error: {
        code: 'EDIT_REVISION_CONFLICT',
        message: `the batch was made against revision ${batch.revision}, the constellation is at ${c.revision}`,
        operationIndex: -1,
      },
    };
  }
  if (c.status === 'cancelled') {
    return {
      ok: false,
      error: { code: 'EDIT_TERMINAL', message: 'the constellation is cancelled', operationIndex: -1 },
    };
  }
  if (batch.operations.length === 0) {
    return { ok: false, error: { code: 'EDIT_INVALID', message: 'the batch has no operations', operationIndex: -1 } };
  }
  const m = new Mutation(c, now, { undo: true, ...(opts.counter ? { counter: opts.counter } : {}) });
  const ctx: OpContext = { inverse: [], index: 0, refChecks: [] };
  try {
    for (; ctx.index < batch.operations.length; ctx.index++) {
      const op = batch.operations[ctx.index]!;
      const from = m.changes.length;
      applyOperation(m, op, ctx);
      if (ctx.inverse && skippedOthers(op, m.changes.slice(from))) ctx.inverse = null;
    }
    runRefChecks(m, ctx);
  } catch (e) {
    const index = ctx.index;
    m.rollback();
    if (e instanceof EditRejection) {
      const error: EditError = { code: e.code, message: e.message, operationIndex: index };
      if (e.cycle) error.cycle = e.cycle;
      return { ok: false, error };
    }
    return { ok: false, error: { code: 'EDIT_INVALID', message: (e as Error).message, operationIndex: index } };
  }
  const status = refreshStatus(m);
  c.revision += 1;
  c.updatedAt = now;
  const record: EditRecord = { revision: c.revision, at: now, operations: structuredClone(batch.operations) };
  if (batch.author !== undefined) record.author = batch.author;
  if (batch.comment !== undefined) record.comment = batch.comment;
  if (ctx.inverse) record.inverse = ctx.inverse.reverse().flat();
  return { ok: true, constellation: c, changes: netChanges(m.changes), record, ...(status ? { status } : {}) };
}

/**
 * One change per task, from its status before the batch to its status after
 * (a task added then made ready reads null -> ready); tasks that ended where
 * they started are left out.
 */
function netChanges(changes: TaskChange[]): TaskChange[] {
  const byTask = new Map<string, TaskChange>();
  for (const ch of changes) {
    const prev = byTask.get(ch.taskId);
    if (!prev) {
      byTask.set(ch.taskId, { ...ch });
      continue;
    }
    const merged: TaskChange = { ...prev, ...ch, from: prev.from };
    const cancel = ch.cancelAttempt ?? prev.cancelAttempt;
    if (cancel) merged.cancelAttempt = cancel;
    byTask.set(ch.taskId, merged);
  }
  return [...byTask.values()].filter((ch) => ch.from !== ch.to || ch.cancelAttempt);
}

/** The task an operation is about (its own status change is undone by its inverse). */
function subject(op: EditOperation): string | undefined {
  switch (op.op) {
    case 'add_task':
      return op.task?.id;
    case 'add_dependency':
      return op.dependency?.to;
    case 'remove_dependency':
      return undefined;
    default:
      return op.taskId;
  }
}

/**
 * Did the operation skip tasks besides its own (by adding or removing
 * edges)? Those verdicts cannot be put back by an inverse batch, so such a
 * batch offers no undo.
 */
function skippedOthers(op: EditOperation, changes: TaskChange[]): boolean {
  const own = subject(op);
  return changes.some((ch) => ch.to === 'skipped' && ch.taskId !== own);
}

/**
 * A batch that undoes `record`, to be applied at `revision`; null when the
 * record touched tasks that had started (it cannot be undone) or changed nothing. Applying it
 * re-validates everything, so it fails cleanly if tasks started since.
 */
export function invertEdit(record: EditRecord, revision: number, author?: string): EditBatch | null {
  if (!record.inverse || record.inverse.length === 0) return null;
  const batch: EditBatch = {
    revision,
    operations: structuredClone(record.inverse) as EditOperation[],
    comment: `undo revision ${record.revision}`,
  };
  if (author !== undefined) batch.author = author;
  return batch;
}
