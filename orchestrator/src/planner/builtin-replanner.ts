// The built-in replanner: a fixed, documented rule set (docs/planner.md),
// tried in order for the failed task:
//   1. a hint in the controlled language ("on <target>: <command>") retries
//      the task there with that command;
//   2. another device matching the task's target, that has not failed it,
//      exists: retry the task pinned to that device;
//   3. the task timed out: retry it with twice the timeout;
//   4. otherwise: no change (the comment says why).
import type { EditOperation, TargetSelector, TaskSpec, TaskState } from '../model/types.js';
import { type Clause, parseSentence } from './controlled-language.js';
import { profileMatches } from './device-profiles.js';
import type { ReplanRequest, ReplanResult } from './types.js';

const IDENTITY = { kind: 'builtin' } as const;

/** Retry the task with a changed definition (retry first: update_task needs a pending/ready task). */
function retryWith(taskId: string, spec: TaskSpec): EditOperation[] {
  return [
    { op: 'retry_task', taskId },
    { op: 'update_task', taskId, task: spec },
  ];
}

/** The failed task to work on: the one that failed, else the first failed or timed out one. */
function failedTask(req: ReplanRequest): [string, TaskState] | undefined {
  const id = req.failure?.taskId;
  if (id && Object.hasOwn(req.state.tasks, id)) return [id, req.state.tasks[id]!];
  return Object.entries(req.state.tasks).find(([, t]) => t.status === 'failed' || t.status === 'timed_out');
}

function fromHint(req: ReplanRequest, taskId: string, t: TaskState): ReplanResult | undefined {
  if (!req.hint || !/^\s*on\s/i.test(req.hint)) return undefined;
  let clause: Clause;
  try {
    const stages = parseSentence(req.hint);
    if (stages.length !== 1 || stages[0]!.clauses.length !== 1) return undefined;
    clause = stages[0]!.clauses[0]!;
  } catch {
    return undefined;
  }
  const name = clause.target.name;
  const device = req.devices.find((d) => d.name === name || d.id === name);
  const target: TargetSelector =
    clause.target.kind === 'any'
      ? {}
      : clause.target.kind !== 'label' && device
        ? { device: device.name }
        : { labels: [name] };
  const spec: TaskSpec = {
    ...t.spec,
    target,
    executor: { ...t.spec.executor, kind: 'shell', command: clause.command },
  };
  return {
    planner: IDENTITY,
    operations: retryWith(taskId, spec),
    comment: `retry ${taskId} on ${name} running ${JSON.stringify(clause.command)} (from the hint)`,
  };
}

export function builtinReplan(req: ReplanRequest): ReplanResult {
  const found = failedTask(req);
  if (!found) return { planner: IDENTITY, operations: [], comment: 'no task has failed: nothing to change' };
  const [taskId, t] = found;
  const hinted = fromHint(req, taskId, t);
  if (hinted) return hinted;
  if (t.status !== 'failed' && t.status !== 'timed_out') {
    return {
      planner: IDENTITY,
      operations: [],
      comment: `task ${taskId} is ${t.status}, not failed: nothing to change`,
    };
  }
  const failedOn = new Set(t.attempts.map((a) => a.deviceId));
  const { device: _pinned, ...rest } = t.spec.target;
  const other = req.devices
    .filter((d) => d.status === 'online' && !failedOn.has(d.id) && profileMatches(rest, d))
    .sort((a, b) => a.name.localeCompare(b.name))[0];
  const where = [...failedOn].map((id) => req.devices.find((d) => d.id === id)?.name ?? id).join(', ') || 'no device';
  if (other) {
    return {
      planner: IDENTITY,
      operations: retryWith(taskId, { ...t.spec, target: { ...rest, device: other.name } }),
      comment: `retry ${taskId} on ${other.name}: it failed on ${where}${req.failure?.error ? ` (${req.failure.error})` : ''}`,
    };
  }
  if (t.status === 'timed_out' && t.spec.timeoutMs) {
    return {
      planner: IDENTITY,
      operations: retryWith(taskId, { ...t.spec, timeoutMs: t.spec.timeoutMs * 2 }),
      comment: `retry ${taskId} with twice the timeout (${t.spec.timeoutMs * 2} ms): it timed out on ${where}`,
    };
  }
  return {
    planner: IDENTITY,
    operations: [],
    comment: `no change proposed for ${taskId}: it failed on ${where} and no other online device matches its target; fix the command, then retry it (or replan with --hint "on <device>: <command>")`,
  };
}
