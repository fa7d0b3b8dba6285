// One function per edit operation. Each validates against the current
// (partly edited) state, applies its change through the Mutation, and throws
// EditRejection on the first problem; applyEdit rolls the batch back.

import { ConditionSyntaxError } from './condition-parse.js';
import { edgeOf, isTerminal, linksOf } from './dependency-index.js';
import { EditRejection } from './edit-errors.js';
import { type Mutation, withoutFields } from './mutation.js';
import { evaluatePending, reviveDependents, settleDependents } from './propagate.js';
import { checkReference, conditionRefs, type RefGraph, taskTemplateReferences } from './references.js';
import { taskSpecProblem } from './task-spec-check.js';
import type { Dependency, DependencyKind, EditOperation, TaskSpec, TaskState } from './types.js';

const KINDS: ReadonlySet<string> = new Set(['success', 'completion', 'failure', 'condition']);

/** Inverse operations collected while applying; null once something cannot be undone. */
export interface OpContext {
  inverse: EditOperation[][] | null;
  /** Index of the operation being applied. */
  index: number;
  /**
   * Reference checks run after the whole batch (a later operation may fix
   * what an earlier one broke): roots whose not-started descendants to check.
   */
  refChecks: Array<{ roots: string[]; index: number; deep: boolean }>;
}

/**
 * Check `roots` after the batch; `deep` also checks their descendants (needed
 * when ancestry shrank or outputs went away, not when edges were added).
 */
function deferRefCheck(ctx: OpContext, roots: string[], deep: boolean): void {
  ctx.refChecks.push({ roots, index: ctx.index, deep });
}

function existing(m: Mutation, id: unknown): TaskState {
  const t = typeof id === 'string' ? m.task(id) : undefined;
  if (!t) throw new EditRejection('EDIT_UNKNOWN_TASK', `no task ${JSON.stringify(id)}`);
  return t;
}

function notStarted(id: string, t: TaskState, what: string): void {
  if (t.status !== 'pending' && t.status !== 'ready') {
    throw new EditRejection(
      'EDIT_TASK_STARTED',
      `cannot ${what} task ${id}: it is ${t.status} (only pending or ready tasks can change)`,
    );
  }
}

/**
 * Edges into a task may change while it is pending or ready, and once it is
 * skipped or cancelled (it just keeps its verdict); not while it runs or
 * after it produced a result.
 */
function edgesMayChange(id: string, t: TaskState, what: string): void {
  if (t.status === 'pending' || t.status === 'ready' || t.status === 'skipped' || t.status === 'cancelled') return;
  throw new EditRejection('EDIT_TASK_STARTED', `cannot ${what} task ${id}: it is ${t.status}`);
}

function refGraph(m: Mutation): RefGraph {
  return {
    inputs: m.c.inputs,
    outputsOf: (t) => m.task(t)?.spec.outputs,
    parents: (t) => (m.idx.links.get(t)?.in ?? []).map((d) => d.from),
  };
}

/** A validated dependency from loose input. */
function makeDependency(from: string, to: string, kind: unknown, condition: unknown): Dependency {
  const k = (kind ?? (condition !== undefined ? 'condition' : 'success')) as string;
  if (!KINDS.has(k)) throw new EditRejection('EDIT_INVALID', `unknown dependency kind ${JSON.stringify(kind)}`);
  if (k === 'condition') {
    if (typeof condition !== 'string')
      throw new EditRejection('EDIT_INVALID', `condition dependency ${from} -> ${to} needs a condition`);
    try {
      conditionRefs(condition);
    } catch (e) {
      if (e instanceof ConditionSyntaxError)
        throw new EditRejection('EDIT_INVALID', `invalid condition on ${from} -> ${to}: ${e.message}`);
      throw e;
    }
    return { from, to, kind: 'condition', condition };
  }
  if (condition !== undefined) throw new EditRejection('EDIT_INVALID', `a ${k} dependency takes no condition`);
  return { from, to, kind: k as DependencyKind };
}

/** Check every reference a not-yet-started task reads. */
function checkTaskRefs(m: Mutation, id: string): void {
  const t = m.task(id)!;
  const g = refGraph(m);
  const { refs, problems } = taskTemplateReferences(t.spec);
  const p = problems[0];
  if (p) throw new EditRejection('EDIT_UNKNOWN_REFERENCE', `task ${id} ${p.path.join('.')}: ${p.message}`);
  for (const r of refs) {
    const why = checkReference(r.ref, id, g, m.counter);
    if (why) throw new EditRejection('EDIT_UNKNOWN_REFERENCE', `task ${id} ${r.path.join('.')}: ${why}`);
  }
  for (const [dest, src] of Object.entries(t.spec.artifactInputs ?? {})) {
    // An artifact input reads a file its producer stores on success: it must exist, declare it, and be upstream.
    const where = `task ${id} artifactInputs.${dest}`;
    const why = checkReference({ kind: 'status', task: src.task }, id, g, m.counter);
    if (why) throw new EditRejection('EDIT_UNKNOWN_REFERENCE', `${where}: ${why.replace(/^tasks\.[^ ]*\.status/, `tasks.${src.task}.artifacts.${src.artifact}`)}`);
    if (!Object.hasOwn(m.task(src.task)?.spec.artifacts ?? {}, src.artifact)) {
      throw new EditRejection('EDIT_UNKNOWN_REFERENCE', `${where}: task "${src.task}" declares no artifact "${src.artifact}"`);
    }
  }
  for (const dep of linksOf(m.idx, id).in) {
    if (dep.kind !== 'condition' || !dep.condition) continue;
    for (const ref of conditionRefs(dep.condition)) {
      const why = checkReference(ref, id, g, m.counter);
      if (why) throw new EditRejection('EDIT_UNKNOWN_REFERENCE', `condition on ${dep.from} -> ${id}: ${why}`);
    }
  }
}

/** Which tasks had their references checked, and which had their descendants queued. */
interface CheckState {
  checked: Set<string>;
  expanded: Set<string>;
}

/** Check references of `roots` (and, if deep, their descendants) that have not started. */
function recheckDownstream(m: Mutation, roots: Iterable<string>, st: CheckState, deep: boolean): void {
  const stack = [...roots];
  while (stack.length > 0) {
    const id = stack.pop()!;
    const t = m.task(id);
    if (!t) continue;
    if (!st.checked.has(id)) {
      st.checked.add(id);
      m.visit();
      if (t.status === 'pending' || t.status === 'ready') checkTaskRefs(m, id);
    }
    if (deep && !st.expanded.has(id)) {
      st.expanded.add(id);
      for (const d of linksOf(m.idx, id).out) stack.push(d.to);
    }
  }
}

/**
 * A path from `start` to `goal` along out-edges, or null. Searches forward
 * from `start` and backward from `goal` at once, always growing the smaller
 * frontier, so the cost is bounded by the smaller of "what start reaches"
 * and "what reaches goal" (a new root task costs O(1) to link anywhere).
 */
export function findPath(m: Mutation, start: string, goal: string): string[] | null {
  if (start === goal) return [start];
  const fwd = new Map<string, string | null>([[start, null]]);
  const bwd = new Map<string, string | null>([[goal, null]]);
  let fq = [start];
  let bq = [goal];
  /** The path through the edge a -> b, a reached forward and b backward. */
  const join = (a: string, b: string): string[] => {
    const left: string[] = [];
    const right: string[] = [];
    for (let x: string | null | undefined = a; x != null; x = fwd.get(x)) left.push(x);
    for (let x: string | null | undefined = b; x != null; x = bwd.get(x)) right.push(x);
    return [...left.reverse(), ...right];
  };
  while (fq.length > 0 && bq.length > 0) {
    if (fq.length <= bq.length) {
      const next: string[] = [];
      for (const id of fq) {
        m.visit();
        for (const { to } of linksOf(m.idx, id).out) {
          if (bwd.has(to)) return join(id, to);
          if (!fwd.has(to)) {
            fwd.set(to, id);
            next.push(to);
          }
        }
      }
      fq = next;
    } else {
      const next: string[] = [];
      for (const id of bq) {
        m.visit();
        for (const { from } of linksOf(m.idx, id).in) {
          if (fwd.has(from)) return join(from, id);
          if (!bwd.has(from)) {
            bwd.set(from, id);
            next.push(from);
          }
        }
      }
      bq = next;
    }
  }
  return null;
}

function addTask(m: Mutation, op: Extract<EditOperation, { op: 'add_task' }>, ctx: OpContext): void {
  const problem = taskSpecProblem(op.task);
  if (problem) throw new EditRejection('EDIT_INVALID', problem);
  const spec = structuredClone(op.task) as TaskSpec;
  if (m.task(spec.id)) throw new EditRejection('EDIT_DUPLICATE_TASK', `task ${spec.id} already exists`);
  const needs = op.needs ?? [];
  if (!Array.isArray(needs)) throw new EditRejection('EDIT_INVALID', 'needs must be a list');
  const deps: Dependency[] = [];
  const seen = new Set<string>();
  for (const n of needs) {
    existing(m, n?.from);
    if (seen.has(n.from)) throw new EditRejection('EDIT_INVALID', `task ${spec.id} needs ${n.from} twice`);
    seen.add(n.from);
    deps.push(makeDependency(n.from, spec.id, n.kind, n.condition));
  }
  m.insertTask({ spec, status: 'pending', attempts: [], outputs: {} });
  for (const d of deps) m.insertEdge(d);
  deferRefCheck(ctx, [spec.id], false);
  evaluatePending(m, spec.id);
  ctx.inverse?.push([{ op: 'remove_task', taskId: spec.id }]);
}

function removeTask(m: Mutation, op: Extract<EditOperation, { op: 'remove_task' }>, ctx: OpContext): void {
  const t = existing(m, op.taskId);
  // Skipped tasks never ran, so they may go too (and undoing an add_task needs it).
  if (t.status !== 'skipped') notStarted(op.taskId, t, 'remove');
  const links = linksOf(m.idx, op.taskId);
  const ins = [...links.in];
  const outs = [...links.out];
  for (const d of ins) m.deleteEdge(d.from, d.to);
  for (const d of outs) m.deleteEdge(d.from, d.to);
  m.deleteTask(op.taskId);
  // Dependents lost an unmet upstream (and maybe an ancestor they read).
  for (const d of outs) evaluatePending(m, d.to);
  deferRefCheck(
    ctx,
    outs.map((d) => d.to),
    true,
  );
  // A task that ran before (and was requeued) cannot get its attempts back,
  // and edges into dependents that started cannot be put back.
  if (
    t.attempts.length > 0 ||
    outs.some((d) => !['pending', 'ready', 'skipped', 'cancelled'].includes(m.task(d.to)!.status))
  ) {
    ctx.inverse = null;
  }
  ctx.inverse?.push([
    {
      op: 'add_task',
      task: t.spec,
      needs: ins.map((d) =>
        d.condition !== undefined
          ? { from: d.from, kind: d.kind, condition: d.condition }
          : { from: d.from, kind: d.kind },
      ),
    },
    // Re-skip before re-linking dependents, so they get the verdict they had.
    ...(t.status === 'skipped' ? [{ op: 'skip_task', taskId: op.taskId } as EditOperation] : []),
    ...outs.map((d): EditOperation => ({ op: 'add_dependency', dependency: d })),
  ]);
}

function updateTask(m: Mutation, op: Extract<EditOperation, { op: 'update_task' }>, ctx: OpContext): void {
  const t = existing(m, op.taskId);
  notStarted(op.taskId, t, 'update');
  const problem = taskSpecProblem(op.task);
  if (problem) throw new EditRejection('EDIT_INVALID', problem);
  if (op.task.id !== op.taskId)
    throw new EditRejection('EDIT_INVALID', `update_task cannot rename ${op.taskId} to ${op.task.id}`);
  m.setTask(op.taskId, { ...t, spec: structuredClone(op.task) as TaskSpec });
  // Its own references, and dependents that may read an output it dropped.
  const dropped = Object.keys(t.spec.outputs).some((name) => !Object.hasOwn(op.task.outputs, name));
  deferRefCheck(ctx, [op.taskId], dropped);
  ctx.inverse?.push([{ op: 'update_task', taskId: op.taskId, task: t.spec }]);
}

function addDependency(m: Mutation, op: Extract<EditOperation, { op: 'add_dependency' }>, ctx: OpContext): void {
  const d = op.dependency as Partial<Dependency> | undefined;
  if (!d || typeof d !== 'object') throw new EditRejection('EDIT_INVALID', 'add_dependency needs a dependency');
  existing(m, d.from);
  const to = existing(m, d.to);
  const from = d.from as string;
  const toId = d.to as string;
  if (from === toId) throw new EditRejection('EDIT_CYCLE', `task ${from} cannot depend on itself`, [from, from]);
  if (edgeOf(m.idx, from, toId))
    throw new EditRejection('EDIT_INVALID', `dependency ${from} -> ${toId} already exists`);
  edgesMayChange(toId, to, 'add a dependency to');
  const dep = makeDependency(from, toId, d.kind, d.condition);
  // Incremental cycle check: does `to` already reach `from`?
  const back = findPath(m, toId, from);
  if (back) {
    const cycle = [from, ...back];
    throw new EditRejection(
      'EDIT_CYCLE',
      `dependency ${from} -> ${toId} would close the cycle ${cycle.join(' -> ')}`,
      cycle,
    );
  }
  m.insertEdge(dep);
  deferRefCheck(ctx, [toId], false);
  evaluatePending(m, toId);
  const skippedNow = to.status !== 'skipped' && m.task(toId)!.status === 'skipped';
  // Undoing an edge that skipped its target also has to bring the target back.
  ctx.inverse?.push([
    { op: 'remove_dependency', from, to: toId },
    ...(skippedNow ? [{ op: 'retry_task', taskId: toId } as EditOperation] : []),
  ]);
}

function removeDependency(m: Mutation, op: Extract<EditOperation, { op: 'remove_dependency' }>, ctx: OpContext): void {
  existing(m, op.from);
  const to = existing(m, op.to);
  const dep = edgeOf(m.idx, op.from, op.to);
  if (!dep) throw new EditRejection('EDIT_INVALID', `no dependency ${op.from} -> ${op.to}`);
  edgesMayChange(op.to, to, 'remove a dependency of');
  m.deleteEdge(op.from, op.to);
  evaluatePending(m, op.to);
  deferRefCheck(ctx, [op.to], true);
  ctx.inverse?.push([{ op: 'add_dependency', dependency: dep }]);
}

function cancelTask(m: Mutation, op: Extract<EditOperation, { op: 'cancel_task' }>, ctx: OpContext): void {
  const t = existing(m, op.taskId);
  if (isTerminal(t.status)) throw new EditRejection('EDIT_TERMINAL', `task ${op.taskId} is already ${t.status}`);
  const next: TaskState = { ...withoutFields(t, 'waitingReason', 'notBefore', 'progress'), status: 'cancelled' };
  const live = t.attempts.at(-1);
  if ((t.status === 'assigned' || t.status === 'running') && live && live.outcome === undefined) {
    next.attempts = [...t.attempts.slice(0, -1), { ...live, outcome: 'cancelled', endedAt: m.now }];
    m.setTask(op.taskId, next, {
      reason: 'cancelled by edit',
      cancelAttempt: { attempt: live.number, deviceId: live.deviceId },
    });
    ctx.inverse = null;
  } else {
    m.setTask(op.taskId, next, { reason: 'cancelled by edit' });
    ctx.inverse?.push([{ op: 'retry_task', taskId: op.taskId }]);
  }
  settleDependents(m, [op.taskId]);
}

function retryTask(m: Mutation, op: Extract<EditOperation, { op: 'retry_task' }>, ctx: OpContext): void {
  const t = existing(m, op.taskId);
  if (!['failed', 'timed_out', 'cancelled', 'skipped'].includes(t.status)) {
    throw new EditRejection(
      'EDIT_INVALID',
      `cannot retry task ${op.taskId}: it is ${t.status} (only failed, timed_out, cancelled or skipped tasks)`,
    );
  }
  const next: TaskState = {
    ...withoutFields(t, 'waitingReason', 'notBefore', 'progress', 'retryBase', 'skippedBy', 'skipCause'),
    status: 'pending',
    outputs: {},
  };
  if (t.attempts.length > 0) next.retryBase = t.attempts.length;
  m.setTask(op.taskId, next, { reason: 'retried by edit' });
  reviveDependents(m, op.taskId);
  // Decided afresh, like a new task: ready, pending behind a running upstream, or ruled out.
  evaluatePending(m, op.taskId);
  if (m.task(op.taskId)!.status === 'skipped') {
    const why = m.changes.findLast((ch) => ch.taskId === op.taskId)?.reason ?? 'its dependencies rule it out';
    throw new EditRejection('EDIT_INVALID', `cannot retry task ${op.taskId}: ${why}; retry the upstream instead`);
  }
  // Only a manual skip can be put back exactly (a dependency verdict cannot).
  if (t.attempts.length > 0 || t.status !== 'skipped' || t.skippedBy !== 'edit') ctx.inverse = null;
  else ctx.inverse?.push([{ op: 'skip_task', taskId: op.taskId }]);
}

function skipTask(m: Mutation, op: Extract<EditOperation, { op: 'skip_task' }>, ctx: OpContext): void {
  const t = existing(m, op.taskId);
  if (t.status === 'skipped') return; // idempotent
  if (isTerminal(t.status)) throw new EditRejection('EDIT_TERMINAL', `task ${op.taskId} is already ${t.status}`);
  notStarted(op.taskId, t, 'skip');
  m.setTask(
    op.taskId,
    { ...withoutFields(t, 'waitingReason', 'notBefore', 'progress'), status: 'skipped', skippedBy: 'edit' },
    { reason: 'skipped by edit' },
  );
  settleDependents(m, [op.taskId]);
  ctx.inverse?.push([{ op: 'retry_task', taskId: op.taskId }]);
}

/** Run the deferred reference checks; throws EditRejection tagged with the operation index. */
export function runRefChecks(m: Mutation, ctx: OpContext): void {
  const st: CheckState = { checked: new Set(), expanded: new Set() };
  for (const check of ctx.refChecks) {
    ctx.index = check.index;
    recheckDownstream(m, check.roots, st, check.deep);
  }
}

export function applyOperation(m: Mutation, op: EditOperation, ctx: OpContext): void {
  if (!op || typeof op !== 'object') throw new EditRejection('EDIT_INVALID', 'operation must be an object');
  switch (op.op) {
    case 'add_task':
      addTask(m, op, ctx);
      return;
    case 'remove_task':
      removeTask(m, op, ctx);
      return;
    case 'update_task':
      updateTask(m, op, ctx);
      return;
    case 'add_dependency':
      addDependency(m, op, ctx);
      return;
    case 'remove_dependency':
      removeDependency(m, op, ctx);
      return;
    case 'cancel_task':
      cancelTask(m, op, ctx);
      return;
    case 'retry_task':
      retryTask(m, op, ctx);
      return;
    case 'skip_task':
      skipTask(m, op, ctx);
      return;
    default:
      throw new EditRejection('EDIT_INVALID', `unknown operation ${JSON.stringify((op as { op?: unknown }).op)}`);
  }
}
