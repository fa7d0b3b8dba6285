// How finishing (or reviving) a task flows to its dependents. Only the
// out-edges of tasks that changed are visited.
//
// Edge verdicts, once the upstream is terminal:
//   success    satisfied iff upstream succeeded
//   completion always satisfied
//   failure    satisfied iff upstream failed or timed_out
//   condition  evaluated when every upstream of the task is terminal
// A pending task with a violated edge is skipped at once (a verdict never
// changes); when its last upstream ends and no edge is violated and every
// condition holds, it becomes ready.

import { evaluateCondition } from './condition-eval.js';
import { isTerminal, linksOf } from './dependency-index.js';
import { type Mutation, withoutFields } from './mutation.js';
import type { ConstellationStatus, Dependency, TaskState, TaskStatus } from './types.js';

export type EdgeVerdict = 'waiting' | 'satisfied' | 'violated' | 'condition';

export function edgeVerdict(dep: Dependency, upstream: TaskStatus): EdgeVerdict {
  if (!isTerminal(upstream)) return 'waiting';
  switch (dep.kind) {
    case 'success':
      return upstream === 'succeeded' ? 'satisfied' : 'violated';
    case 'completion':
      return 'satisfied';
    case 'failure':
      return upstream === 'failed' || upstream === 'timed_out' ? 'satisfied' : 'violated';
    case 'condition':
      return 'condition';
  }
}

function violationReason(dep: Dependency, upstream: TaskStatus): string {
  return dep.kind === 'failure'
    ? `upstream ${dep.from} ${upstream}, not failed (failure dependency)`
    : `upstream ${dep.from} ${upstream} (success dependency)`;
}

/** Skip a non-started task, recording why. Dependents are settled by the caller's queue. */
function skip(
  m: Mutation,
  id: string,
  t: TaskState,
  dep: Dependency,
  reason: string,
  queue: string[],
  by: 'dependency' | 'condition' = 'dependency',
): void {
  m.setTask(
    id,
    { ...withoutFields(t, 'waitingReason', 'notBefore'), status: 'skipped', skippedBy: by, skipCause: dep.from },
    { reason },
  );
  queue.push(id);
}

/** All upstreams are terminal: check every edge (conditions included) and decide. */
function decide(m: Mutation, id: string, t: TaskState, queue: string[]): void {
  for (const dep of linksOf(m.idx, id).in) {
    m.visit();
    const up = m.task(dep.from)!;
    const verdict = edgeVerdict(dep, up.status);
    if (verdict === 'violated') {
      skip(m, id, t, dep, violationReason(dep, up.status), queue);
      return;
    }
    if (verdict === 'condition') {
      let holds: boolean;
      try {
        holds = evaluateCondition(dep.condition ?? '', { inputs: m.c.inputs, tasks: m.c.tasks });
      } catch {
        holds = false;
      }
      if (!holds) {
        skip(m, id, t, dep, `condition on ${dep.from} is false: ${dep.condition}`, queue, 'condition');
        return;
      }
    }
  }
  m.setTask(id, { ...t, status: 'ready' });
}

/**
 * Tasks in `queue` just became terminal: settle their dependents, and theirs
 * in turn when they get skipped.
 */
export function settleDependents(m: Mutation, queue: string[]): void {
  while (queue.length > 0) {
    const id = queue.pop()!;
    const status = m.task(id)!.status;
    for (const dep of linksOf(m.idx, id).out) {
      const to = dep.to;
      m.visit();
      const t = m.task(to)!;
      if (t.status !== 'pending') continue;
      if (edgeVerdict(dep, status) === 'violated') {
        skip(m, to, t, dep, violationReason(dep, status), queue);
      } else if (linksOf(m.idx, to).unmet === 0) {
        decide(m, to, t, queue);
      }
    }
  }
}

/** Re-evaluate one pending task from scratch (after an edit changed its edges). */
export function evaluatePending(m: Mutation, id: string): void {
  const t = m.task(id)!;
  if (t.status !== 'pending' && t.status !== 'ready') return;
  const queue: string[] = [];
  const links = linksOf(m.idx, id);
  if (links.unmet > 0) {
    for (const dep of links.in) {
      m.visit();
      const up = m.task(dep.from)!;
      if (edgeVerdict(dep, up.status) === 'violated') {
        skip(m, id, t, dep, violationReason(dep, up.status), queue);
        break;
      }
    }
    const now = m.task(id)!;
    if (now.status === 'ready') m.setTask(id, { ...now, status: 'pending' });
  } else {
    decide(m, id, t, queue);
  }
  settleDependents(m, queue);
}

/**
 * A terminal task came back to life (retry): its ready dependents wait again,
 * and skipped dependents whose other edges still allow them revert to pending.
 */
export function reviveDependents(m: Mutation, root: string): void {
  const stack = [root];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const { to } of linksOf(m.idx, id).out) {
      m.visit();
      const t = m.task(to)!;
      if (t.status === 'ready') {
        m.setTask(to, { ...t, status: 'pending' }, { reason: `upstream ${id} is retried` });
      } else if (t.status === 'skipped' && t.skippedBy !== 'edit' && t.skipCause === id) {
        // Skipped because of this task: back to pending, unless another upstream still rules it out.
        const other = blockingEdge(m, to);
        if (other) m.setTask(to, { ...t, skipCause: other.from });
        else {
          m.setTask(
            to,
            { ...withoutFields(t, 'skippedBy', 'skipCause'), status: 'pending' },
            { reason: `upstream ${id} is retried` },
          );
          stack.push(to);
        }
      }
    }
  }
}

/** A terminal upstream's edge that still rules this task out, if any. */
function blockingEdge(m: Mutation, id: string): Dependency | undefined {
  for (const dep of linksOf(m.idx, id).in) {
    m.visit();
    if (edgeVerdict(dep, m.task(dep.from)!.status) === 'violated') return dep;
  }
  return undefined;
}

/**
 * The constellation's status once every task is terminal: `failed` when some
 * task failed or timed out and has no `failure` dependency handling it,
 * otherwise `succeeded` (skipped and cancelled tasks do not fail it).
 */
export function finalStatus(m: Mutation): ConstellationStatus {
  for (const [id, t] of Object.entries(m.c.tasks)) {
    if (t.status !== 'failed' && t.status !== 'timed_out') continue;
    let handled = false;
    for (const dep of linksOf(m.idx, id).out) {
      if (dep.kind === 'failure') handled = true;
    }
    if (!handled) return 'failed';
  }
  return 'succeeded';
}

/** Bring the constellation status in line with its tasks. */
export function refreshStatus(m: Mutation): { from: ConstellationStatus; to: ConstellationStatus } | undefined {
  const from = m.c.status;
  if (from === 'cancelled' || from === 'draft') return undefined;
  let to: ConstellationStatus = from;
  if (m.idx.live === 0) to = finalStatus(m);
  else if (from === 'succeeded' || from === 'failed') to = 'running';
  if (to === from) return undefined;
  m.setField('status', to);
  return { from, to };
}
