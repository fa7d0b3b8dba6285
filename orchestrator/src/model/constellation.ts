// Creating a constellation from a normalised graph, and the whole-constellation
// transitions (cancel, pause, resume).

import { adoptIndex, buildIndex, isTerminal } from './dependency-index.js';
import { Mutation, withoutFields } from './mutation.js';
import { refreshStatus } from './propagate.js';
import type { TransitionResult } from './transitions.js';
import type { Constellation, GraphSpec, TaskState } from './types.js';

export interface ConstellationMeta {
  id: string;
  owner: string;
  now: number;
}

/**
 * A running constellation: every task pending, then tasks without
 * dependencies ready. The spec is assumed valid (see graph/normaliseGraph).
 */
export function createConstellation(spec: GraphSpec, meta: ConstellationMeta): Constellation {
  const tasks: Record<string, TaskState> = {};
  for (const t of spec.tasks) {
    if (Object.hasOwn(tasks, t.id) || t.id === '__proto__') throw new Error(`duplicate or reserved task id ${t.id}`);
    tasks[t.id] = { spec: t, status: 'pending', attempts: [], outputs: {} };
  }
  const c: Constellation = {
    id: meta.id,
    name: spec.name,
    revision: 1,
    status: 'running',
    owner: meta.owner,
    inputs: { ...spec.inputs },
    tasks,
    // Dependency objects are never modified (edits replace them), so they can be shared.
    dependencies: [...spec.dependencies],
    createdAt: meta.now,
    updatedAt: meta.now,
  };
  if (spec.description !== undefined) c.description = spec.description;
  if (spec.replan !== undefined && spec.replan !== 'off') c.replan = spec.replan;
  const idx = buildIndex(c);
  for (const [id, links] of idx.links) {
    if (links.in.length === 0) tasks[id] = { ...tasks[id]!, status: 'ready' };
  }
  // Still valid: pending -> ready changes no counter.
  adoptIndex(c, idx);
  return c;
}

/** Cancel the constellation: every non-terminal task becomes cancelled. */
export function cancelConstellation(
  c: Constellation,
  now: number,
  reason = 'constellation cancelled',
): TransitionResult {
  if (c.status === 'cancelled') return { ok: true, changes: [] };
  const m = new Mutation(c, now);
  for (const [id, t] of Object.entries(c.tasks)) {
    if (isTerminal(t.status)) continue;
    const live = t.status === 'assigned' || t.status === 'running' ? t.attempts.at(-1) : undefined;
    const next: TaskState = { ...withoutFields(t, 'waitingReason', 'notBefore'), status: 'cancelled' };
    if (live && live.outcome === undefined) {
      next.attempts = [...t.attempts.slice(0, -1), { ...live, outcome: 'cancelled', endedAt: now }];
      m.setTask(id, next, { reason, cancelAttempt: { attempt: live.number, deviceId: live.deviceId } });
    } else m.setTask(id, next, { reason });
  }
  const from = c.status;
  c.status = 'cancelled';
  c.updatedAt = now;
  return { ok: true, changes: m.changes, status: { from, to: 'cancelled' } };
}

/** Pause: the engine stops dispatching ready tasks; running ones go on. */
export function pauseConstellation(c: Constellation, now: number): TransitionResult {
  if (c.status !== 'running') {
    return { ok: false, code: 'INVALID_TRANSITION', message: `cannot pause a ${c.status} constellation` };
  }
  c.status = 'paused';
  c.updatedAt = now;
  return { ok: true, changes: [], status: { from: 'running', to: 'paused' } };
}

export function resumeConstellation(c: Constellation, now: number): TransitionResult {
  if (c.status !== 'paused') {
    return { ok: false, code: 'INVALID_TRANSITION', message: `cannot resume a ${c.status} constellation` };
  }
  c.status = 'running';
  c.updatedAt = now;
  const m = new Mutation(c, now);
  const status = refreshStatus(m);
  return {
    ok: true,
    changes: [],
    status: status ? { from: 'paused', to: status.to } : { from: 'paused', to: 'running' },
  };
}
