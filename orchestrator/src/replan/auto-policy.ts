// What the `auto` replan policy may apply without a person: the planner's
// input includes task logs and outputs, which whoever controls a task can
// shape, so an automatic edit may only re-run, skip or cancel work that is
// already in the graph, or give the failed task another timeout, target or
// retry budget. Anything that could run a new command (add_task, an
// update_task changing the executor, env, inputs...) stays a proposal.
import type { Constellation, EditOperation, TaskSpec } from '../model/types.js';

/** TaskSpec fields an automatic update of the failed task may change. */
const FREE_FIELDS = new Set(['timeoutMs', 'target', 'retry']);

/** JSON with sorted keys, empty objects/arrays and undefined dropped: equal specs compare equal. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(canonical);
  if (v === null || typeof v !== 'object') return v;
  const entries = Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => [k, canonical(x)] as const)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

function changedFields(before: TaskSpec, after: TaskSpec): string[] {
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(canonical(a[k])) !== JSON.stringify(canonical(b[k]))).sort();
}

/** Why `ops` may not be applied automatically, or null when they may. */
export function autoApplyProblem(c: Constellation, ops: readonly EditOperation[], failedId?: string): string | null {
  for (const op of ops) {
    if (op.op === 'retry_task' || op.op === 'skip_task' || op.op === 'cancel_task') continue;
    if (op.op !== 'update_task') return `it includes ${op.op}`;
    if (op.taskId !== failedId) return `it changes task ${op.taskId}, not the failed task`;
    const before = c.tasks[op.taskId]?.spec;
    if (!before) return `it changes unknown task ${op.taskId}`;
    const changed = changedFields(before, op.task).filter((k) => !FREE_FIELDS.has(k));
    if (changed.length > 0) return `it changes ${changed.join(', ')} of task ${op.taskId}`;
  }
  return null;
}
