// Whole-constellation invariant check (O(V+E)): for tests, for the journal
// after replay, and for debugging. Returns a list of violations (empty = ok).

import { buildIndex, edgeKey, isTerminal, peekIndex } from './dependency-index.js';
import type { Constellation } from './types.js';

export function checkInvariants(c: Constellation): string[] {
  const out: string[] = [];
  const ids = Object.keys(c.tasks);
  for (const id of ids) {
    if (c.tasks[id]!.spec.id !== id) out.push(`task key ${id} holds spec id ${c.tasks[id]!.spec.id}`);
  }
  const seen = new Set<string>();
  for (const d of c.dependencies) {
    if (!Object.hasOwn(c.tasks, d.from) || !Object.hasOwn(c.tasks, d.to))
      out.push(`dependency ${d.from} -> ${d.to} references a missing task`);
    if (d.from === d.to) out.push(`self dependency on ${d.from}`);
    const k = edgeKey(d.from, d.to);
    if (seen.has(k)) out.push(`duplicate dependency ${d.from} -> ${d.to}`);
    seen.add(k);
    if (d.kind === 'condition' && typeof d.condition !== 'string')
      out.push(`condition dependency ${d.from} -> ${d.to} has no condition`);
  }
  if (out.length > 0) return out;

  const fresh = buildIndex(c);
  // Acyclic (Kahn).
  const indeg = new Map<string, number>();
  for (const [id, l] of fresh.links) indeg.set(id, l.in.length);
  const queue = ids.filter((id) => indeg.get(id) === 0);
  let sorted = 0;
  while (queue.length > 0) {
    const id = queue.pop()!;
    sorted++;
    for (const { to } of fresh.links.get(id)!.out) {
      const n = indeg.get(to)! - 1;
      indeg.set(to, n);
      if (n === 0) queue.push(to);
    }
  }
  if (sorted !== ids.length) out.push(`the graph has a cycle (${ids.length - sorted} tasks on or behind cycles)`);

  for (const id of ids) {
    const t = c.tasks[id]!;
    const unmet = fresh.links.get(id)!.unmet;
    const liveAttempts = t.attempts.filter((a) => a.outcome === undefined);
    if (liveAttempts.length > 1) out.push(`task ${id} has ${liveAttempts.length} live attempts`);
    t.attempts.forEach((a, i) => {
      if (a.number !== i + 1) out.push(`task ${id} attempt ${i} is numbered ${a.number}`);
    });
    const last = t.attempts.at(-1);
    if (t.status === 'assigned' || t.status === 'running') {
      if (!last || last.outcome !== undefined) out.push(`task ${id} is ${t.status} without a live attempt`);
    } else if (liveAttempts.length > 0) out.push(`task ${id} is ${t.status} but has a live attempt`);
    if (t.status === 'succeeded' && last?.outcome !== 'succeeded')
      out.push(`task ${id} succeeded without a succeeded attempt`);
    if ((t.status === 'failed' || t.status === 'timed_out') && last?.outcome !== t.status) {
      out.push(`task ${id} is ${t.status} but its last attempt is ${last?.outcome}`);
    }
    if (t.status === 'pending' && unmet === 0) out.push(`task ${id} is pending with every upstream terminal`);
    // Assigned/running tasks may see an upstream come back (retry_task) after they started.
    if (t.status === 'ready' && unmet > 0) out.push(`task ${id} is ready with ${unmet} unfinished upstream tasks`);
  }

  const cached = peekIndex(c);
  if (cached) {
    if (cached.live !== fresh.live) out.push(`index live count ${cached.live}, expected ${fresh.live}`);
    if (cached.links.size !== fresh.links.size)
      out.push(`index has ${cached.links.size} tasks, expected ${fresh.links.size}`);
    for (const [id, l] of fresh.links) {
      const cl = cached.links.get(id);
      if (!cl) {
        out.push(`index misses task ${id}`);
        continue;
      }
      if (cl.unmet !== l.unmet) out.push(`index unmet(${id}) = ${cl.unmet}, expected ${l.unmet}`);
      if (cl.in.length !== l.in.length || cl.out.length !== l.out.length) out.push(`index edges of ${id} differ`);
    }
    c.dependencies.forEach((d, i) => {
      if (cached.edgePos.get(d) !== i) out.push(`index position of ${d.from} -> ${d.to} is wrong`);
    });
    if (cached.edgePos.size !== c.dependencies.length) out.push('index has stale edge positions');
  }

  if (c.status === 'running' || c.status === 'paused') {
    if (fresh.live === 0 && ids.length > 0) out.push(`constellation is ${c.status} but every task is terminal`);
  } else if (c.status === 'succeeded' || c.status === 'failed' || c.status === 'cancelled') {
    if (fresh.live > 0) out.push(`constellation is ${c.status} but ${fresh.live} tasks are not terminal`);
  }
  for (const id of ids) {
    if (c.status === 'cancelled' && !isTerminal(c.tasks[id]!.status))
      out.push(`task ${id} is live in a cancelled constellation`);
  }
  return out;
}
