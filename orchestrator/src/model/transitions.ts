// The task state machine driven by the engine (agent messages, timers):
//   ready -> assigned -> running -> succeeded | failed | timed_out | cancelled
// A failed/timed-out attempt with retries left goes back to ready with a
// notBefore time; a lost/interrupted attempt (device gone, orchestrator
// restart) goes back to ready without using a retry. Results carry the
// attempt number as a fencing token: anything but the current live attempt is
// stale and changes nothing.

import { backoffDelay } from './backoff.js';
import { isTerminal, linksOf, taskOf } from './dependency-index.js';
import { Mutation, withoutFields } from './mutation.js';
import { refreshStatus, settleDependents } from './propagate.js';
import type { Attempt, AttemptOutcome, Constellation, ConstellationStatus, TaskChange, TaskState } from './types.js';

export type TransitionErrorCode = 'UNKNOWN_TASK' | 'STALE_ATTEMPT' | 'INVALID_TRANSITION' | 'NOT_YET';

export type TransitionResult =
  | {
      ok: true;
      changes: TaskChange[];
      /** Set when the constellation status changed. */
      status?: { from: ConstellationStatus; to: ConstellationStatus };
      /** assignTask: the new attempt number. */
      attempt?: number;
    }
  | {
      ok: false;
      code: TransitionErrorCode;
      message: string;
      /** true: a message about an attempt that is no longer current (ignore it, do not fail). */
      stale?: boolean;
    };

export interface TaskResult {
  outcome: AttemptOutcome;
  outputs?: Record<string, string>;
  exitCode?: number;
  error?: string;
}

function fail(code: TransitionErrorCode, message: string, stale = false): TransitionResult {
  return stale ? { ok: false, code, message, stale } : { ok: false, code, message };
}

function finish(m: Mutation, extra: { attempt?: number } = {}): TransitionResult {
  const status = refreshStatus(m);
  if (m.changes.length > 0) m.c.updatedAt = m.now;
  return { ok: true, changes: m.changes, ...(status ? { status } : {}), ...extra };
}

/** The live attempt `attempt` of task `id`, or why there is none. */
function liveAttempt(
  c: Constellation,
  id: string,
  attempt: number,
): { task: TaskState; live: Attempt } | TransitionResult {
  const task = taskOf(c, id);
  if (!task) return fail('UNKNOWN_TASK', `no task ${id}`, true);
  const live = task.attempts.at(-1);
  if (
    (task.status !== 'assigned' && task.status !== 'running') ||
    !live ||
    live.number !== attempt ||
    live.outcome !== undefined
  ) {
    return fail(
      'STALE_ATTEMPT',
      `attempt ${attempt} of ${id} is not current (task ${task.status}, ${task.attempts.length} attempts)`,
      true,
    );
  }
  return { task, live };
}

function isFailure(r: ReturnType<typeof liveAttempt>): r is TransitionResult {
  return 'ok' in r;
}

/** ready -> assigned: a new attempt on `deviceId`. */
export function assignTask(
  c: Constellation,
  id: string,
  opts: { deviceId: string; now: number; placement?: string },
): TransitionResult {
  const task = taskOf(c, id);
  if (!task) return fail('UNKNOWN_TASK', `no task ${id}`);
  if (task.status !== 'ready') return fail('INVALID_TRANSITION', `task ${id} is ${task.status}, not ready`);
  if (c.status !== 'running') return fail('INVALID_TRANSITION', `constellation is ${c.status}`);
  if (task.notBefore !== undefined && task.notBefore > opts.now) {
    return fail('NOT_YET', `task ${id} may not start before ${task.notBefore}`);
  }
  const number = task.attempts.length + 1;
  const attempt: Attempt = { number, deviceId: opts.deviceId, assignedAt: opts.now };
  if (opts.placement !== undefined) attempt.placement = opts.placement;
  const m = new Mutation(c, opts.now);
  m.setTask(id, {
    ...withoutFields(task, 'waitingReason', 'notBefore', 'progress'),
    status: 'assigned',
    attempts: [...task.attempts, attempt],
  });
  return finish(m, { attempt: number });
}

/** assigned -> running (the agent accepted and started the attempt). */
export function startTask(c: Constellation, id: string, attempt: number, now: number): TransitionResult {
  const r = liveAttempt(c, id, attempt);
  if (isFailure(r)) return r;
  if (r.task.status === 'running') return { ok: true, changes: [] };
  const m = new Mutation(c, now);
  m.setTask(id, {
    ...r.task,
    status: 'running',
    attempts: [...r.task.attempts.slice(0, -1), { ...r.live, startedAt: now }],
  });
  return finish(m);
}

/** Progress of the live attempt (no status change). */
export function reportProgress(
  c: Constellation,
  id: string,
  attempt: number,
  progress: { fraction: number; message: string },
): TransitionResult {
  const r = liveAttempt(c, id, attempt);
  if (isFailure(r)) return r;
  c.tasks[id] = { ...r.task, progress };
  return { ok: true, changes: [] };
}

/**
 * A requeued task is ready again, unless an upstream came back to life
 * (retry_task) while it ran: then it waits for it.
 */
function requeueStatus(m: Mutation, id: string): 'ready' | 'pending' {
  return linksOf(m.idx, id).unmet > 0 ? 'pending' : 'ready';
}

/** Failed or timed-out attempts that count against the retry budget. */
export function countedFailures(task: TaskState): number {
  let n = 0;
  for (let i = task.retryBase ?? 0; i < task.attempts.length; i++) {
    const o = task.attempts[i]!.outcome;
    if (o === 'failed' || o === 'timed_out') n++;
  }
  return n;
}

/**
 * The live attempt ended. `jitter` in [0, 1) shortens the retry backoff
 * (pass a random number; tests pass a fixed one).
 */
export function completeTask(
  c: Constellation,
  id: string,
  attempt: number,
  result: TaskResult,
  now: number,
  opts: { jitter?: number } = {},
): TransitionResult {
  const r = liveAttempt(c, id, attempt);
  if (isFailure(r)) return r;
  const { task, live } = r;
  const ended: Attempt = { ...live, endedAt: now, outcome: result.outcome };
  if (result.exitCode !== undefined) ended.exitCode = result.exitCode;
  if (result.error !== undefined) ended.error = result.error;
  const attempts = [...task.attempts.slice(0, -1), ended];
  const base: TaskState = { ...withoutFields(task, 'progress', 'waitingReason', 'notBefore'), attempts };
  const m = new Mutation(c, now);
  switch (result.outcome) {
    case 'succeeded':
      m.setTask(id, { ...base, status: 'succeeded', outputs: { ...(result.outputs ?? {}) } });
      break;
    case 'cancelled':
      m.setTask(id, { ...base, status: 'cancelled' }, { reason: result.error ?? 'cancelled on the device' });
      break;
    case 'lost':
    case 'interrupted':
      m.setTask(
        id,
        { ...base, status: requeueStatus(m, id) },
        { reason: `attempt ${attempt} ${result.outcome}; requeued` },
      );
      break;
    case 'failed':
    case 'timed_out': {
      const failures = countedFailures(base);
      if (failures <= task.spec.retry.max) {
        const delay = backoffDelay(task.spec.retry, failures, opts.jitter ?? 0);
        m.setTask(
          id,
          { ...base, status: requeueStatus(m, id), notBefore: now + delay },
          {
            reason: `attempt ${attempt} ${result.outcome}; retry ${failures} of ${task.spec.retry.max} in ${delay} ms`,
          },
        );
      } else {
        m.setTask(
          id,
          { ...base, status: result.outcome },
          { reason: result.error ?? `attempt ${attempt} ${result.outcome}` },
        );
      }
      break;
    }
  }
  if (isTerminal(m.task(id)!.status)) settleDependents(m, [id]);
  return finish(m);
}
