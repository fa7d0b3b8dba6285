// Whole-graph semantic checks at submit: dangling and cyclic dependencies
// (with @dagrejs/graphlib), and template/condition references.

import { alg, Graph } from '@dagrejs/graphlib';
import { conditionRefs, checkReference, type RefGraph } from '../model/references.js';
import { scanTemplate } from '../model/template.js';
import type { GraphSpec, OutputSource } from '../model/types.js';
import { artifactInputPath } from './artifact-refs.js';
import { type GraphIssue, toPointer } from './graph-error.js';
import type { RawGraph } from './normalise.js';

function needPath(raw: RawGraph, to: string, from: string): string {
  const needs = raw.tasks[to]?.needs;
  if (Array.isArray(needs) && needs.includes(from)) return toPointer(['tasks', to, 'needs', needs.indexOf(from)]);
  // An edge implied by an artifact input points at that input.
  if (!needs || Array.isArray(needs) || !Object.hasOwn(needs, from)) {
    const viaArtifact = artifactInputPath(raw.tasks[to], to, from);
    if (viaArtifact) return viaArtifact;
  }
  return toPointer(['tasks', to, 'needs', from]);
}

/** Dependencies on tasks that do not exist, and self-dependencies. */
export function danglingIssues(spec: GraphSpec, raw: RawGraph): GraphIssue[] {
  const ids = new Set(spec.tasks.map((t) => t.id));
  const out: GraphIssue[] = [];
  for (const d of spec.dependencies) {
    if (!ids.has(d.from)) {
      out.push({
        code: 'GRAPH_DANGLING_DEPENDENCY',
        path: needPath(raw, d.to, d.from),
        message: `task ${d.to} needs ${d.from}, which is not a task`,
      });
    } else if (d.from === d.to) {
      out.push({ code: 'GRAPH_CYCLE', path: needPath(raw, d.to, d.from), message: `task ${d.to} depends on itself` });
    }
  }
  return out;
}

/** One concrete cycle through `start` inside a strongly connected component. */
function cycleThrough(g: Graph, start: string, members: Set<string>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const next of g.successors(id) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [id];
        for (let at = id; at !== start; ) {
          at = parent.get(at)!;
          path.push(at);
        }
        return [...path.reverse(), start];
      }
      if (!seen.has(next)) {
        seen.add(next);
        parent.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/**
 * Kahn's algorithm over plain arrays: the order when acyclic, otherwise the
 * tasks that sit on or behind a cycle. (graphlib's setEdge costs several
 * times more than the whole check on a 100,000-task graph, so graphlib only
 * gets the leftover region to name the cycles.)
 */
function topologicalOrder(spec: GraphSpec): { order: string[]; leftover: Set<string> } {
  const index = new Map<string, number>();
  spec.tasks.forEach((t, i) => {
    index.set(t.id, i);
  });
  const indeg = new Array<number>(spec.tasks.length).fill(0);
  const out: number[][] = spec.tasks.map(() => []);
  for (const d of spec.dependencies) {
    const from = index.get(d.from);
    const to = index.get(d.to);
    if (from === undefined || to === undefined || from === to) continue;
    out[from]!.push(to);
    indeg[to]!++;
  }
  const queue: number[] = [];
  indeg.forEach((n, i) => {
    if (n === 0) queue.push(i);
  });
  const order: string[] = [];
  for (let head = 0; head < queue.length; head++) {
    const i = queue[head]!;
    order.push(spec.tasks[i]!.id);
    for (const j of out[i]!) if (--indeg[j]! === 0) queue.push(j);
  }
  const leftover = new Set<string>();
  indeg.forEach((n, i) => {
    if (n > 0) leftover.add(spec.tasks[i]!.id);
  });
  return { order, leftover };
}

/** Cycles, each named by one concrete loop (a -> b -> a). Returns a topological order when acyclic. */
export function cycleIssues(spec: GraphSpec, raw: RawGraph): { issues: GraphIssue[]; order?: string[] } {
  const { order, leftover } = topologicalOrder(spec);
  if (leftover.size === 0) return { issues: [], order };
  const g = new Graph({ directed: true });
  for (const id of leftover) g.setNode(id);
  for (const d of spec.dependencies) {
    if (d.from !== d.to && leftover.has(d.from) && leftover.has(d.to)) g.setEdge(d.from, d.to);
  }
  const issues: GraphIssue[] = [];
  for (const scc of alg.findCycles(g)) {
    const members = new Set(scc);
    const start = [...members].sort()[0]!;
    const cycle = cycleThrough(g, start, members);
    const closing = cycle[cycle.length - 2]!;
    issues.push({
      code: 'GRAPH_CYCLE',
      path: needPath(raw, start, closing),
      message: `dependency cycle: ${cycle.join(' -> ')}`,
    });
  }
  return { issues };
}

interface RawField {
  path: Array<string | number>;
  value: string;
}

/** Template strings under `value`; `path` is a shared stack, copied only on a hit. */
function collect(value: unknown, path: Array<string | number>, out: RawField[]): void {
  if (typeof value === 'string') {
    if (value.includes('${{')) out.push({ path: [...path], value });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      collect(value[i], path, out);
      path.pop();
    }
  } else if (value !== null && typeof value === 'object') {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      path.push(k);
      collect((value as Record<string, unknown>)[k], path, out);
      path.pop();
    }
  }
}

/** Template strings a task reads, with their paths in the user's document. */
function rawFields(raw: RawGraph, id: string): RawField[] {
  const t = raw.tasks[id]!;
  const out: RawField[] = [];
  for (const key of ['run', 'executor', 'env', 'cwd', 'inputs'] as const) {
    if (t[key] !== undefined) collect(t[key], ['tasks', id, key], out);
  }
  const d = raw.defaults;
  if (d) {
    collect(d.env, ['defaults', 'env'], out);
    if (t.cwd === undefined && t.executor?.cwd === undefined) collect(d.cwd, ['defaults', 'cwd'], out);
  }
  return out;
}

/** ${{ }} and condition references that point nowhere or not upstream. */
export function referenceIssues(spec: GraphSpec, raw: RawGraph): GraphIssue[] {
  const outputs = new Map<string, Record<string, OutputSource>>(spec.tasks.map((t) => [t.id, t.outputs]));
  // Built on first use: most big graphs carry no references at all.
  let parents: Map<string, string[]> | undefined;
  const parentsOf = (t: string): string[] => {
    if (!parents) {
      parents = new Map();
      for (const d of spec.dependencies) {
        const list = parents.get(d.to);
        if (list) list.push(d.from);
        else parents.set(d.to, [d.from]);
      }
    }
    return parents.get(t) ?? [];
  };
  const g: RefGraph = { inputs: spec.inputs, outputsOf: (t) => outputs.get(t), parents: parentsOf };
  const out: GraphIssue[] = [];
  const seen = new Set<string>();
  const push = (issue: GraphIssue): void => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(issue);
    }
  };
  for (const t of spec.tasks) {
    for (const f of rawFields(raw, t.id)) {
      const { refs, problems } = scanTemplate(f.value);
      for (const p of problems) push({ code: 'GRAPH_UNKNOWN_REFERENCE', path: toPointer(f.path), message: p.message });
      for (const r of refs) {
        const why = checkReference(r.ref, t.id, g);
        if (why) push({ code: 'GRAPH_UNKNOWN_REFERENCE', path: toPointer(f.path), message: `${t.id}: ${why}` });
      }
    }
  }
  for (const d of spec.dependencies) {
    if (d.kind !== 'condition' || d.condition === undefined) continue;
    let refs: ReturnType<typeof conditionRefs>;
    try {
      refs = conditionRefs(d.condition);
    } catch {
      continue; // reported as GRAPH_INVALID_CONDITION already
    }
    for (const ref of refs) {
      const why = checkReference(ref, d.to, g);
      if (why)
        push({
          code: 'GRAPH_UNKNOWN_REFERENCE',
          path: toPointer(['tasks', d.to, 'needs', d.from, 'if']),
          message: `condition: ${why}`,
        });
    }
  }
  return out;
}
