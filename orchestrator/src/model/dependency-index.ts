// The engine's hot-path structure: per-task in/out edges and a counter of
// in-edges whose upstream is not terminal yet, so that finishing a task
// touches only its out-edges. Built once per Constellation object (O(V+E))
// and then kept up to date by the model's own mutations; it lives beside the
// plain, JSON-serialisable Constellation in a WeakMap.

import {
  type Constellation,
  type Dependency,
  TERMINAL_TASK_STATUSES,
  type TaskState,
  type TaskStatus,
} from './types.js';

// Arrays, not Maps: 100,000 tasks would otherwise allocate 200,000 Maps.
// Pair lookups scan the shorter of from.out / to.in (O(degree)).
export interface TaskLinks {
  /** In-edges (order is not meaningful). */
  in: Dependency[];
  /** Out-edges (order is not meaningful). */
  out: Dependency[];
  /** In-edges whose upstream is not in a terminal state. */
  unmet: number;
}

export interface DependencyIndex {
  links: Map<string, TaskLinks>;
  /**
   * Position of each edge (by object identity) in constellation.dependencies,
   * for O(1) removal. Identity keys: no string building for 200,000 edges.
   */
  edgePos: Map<Dependency, number>;
  /** Number of tasks not in a terminal state. */
  live: number;
}

export function edgeKey(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** A task by id, own properties only ("constructor" is not a task). */
export function taskOf(c: Constellation, id: string): TaskState | undefined {
  return Object.hasOwn(c.tasks, id) ? c.tasks[id] : undefined;
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_TASK_STATUSES.has(status);
}

const indexes = new WeakMap<Constellation, DependencyIndex>();

/** Build an index from scratch (O(V+E)). Throws on edges to unknown tasks. */
export function buildIndex(c: Constellation): DependencyIndex {
  const links = new Map<string, TaskLinks>();
  // Terminal tasks, to count unmet edges without a second lookup per edge.
  const terminal = new Set<TaskLinks>();
  let live = 0;
  for (const id in c.tasks) {
    if (!Object.hasOwn(c.tasks, id)) continue;
    const l: TaskLinks = { in: [], out: [], unmet: 0 };
    links.set(id, l);
    if (isTerminal(c.tasks[id]!.status)) terminal.add(l);
    else live++;
  }
  const edgePos = new Map<Dependency, number>();
  const deps = c.dependencies;
  for (let i = 0; i < deps.length; i++) {
    const d = deps[i]!;
    const from = links.get(d.from);
    const to = links.get(d.to);
    if (!from || !to) throw new Error(`dependency ${d.from} -> ${d.to} references an unknown task`);
    from.out.push(d);
    to.in.push(d);
    edgePos.set(d, i);
    if (!terminal.has(from)) to.unmet++;
  }
  return { links, edgePos, live };
}

/** The index of a constellation, built on first use and then maintained. */
export function indexOf(c: Constellation): DependencyIndex {
  let idx = indexes.get(c);
  if (!idx) {
    idx = buildIndex(c);
    indexes.set(c, idx);
  }
  return idx;
}

/** Cache an index built by buildIndex for this constellation. */
export function adoptIndex(c: Constellation, idx: DependencyIndex): void {
  indexes.set(c, idx);
}

/** The cached index, if any (for invariant checks). */
export function peekIndex(c: Constellation): DependencyIndex | undefined {
  return indexes.get(c);
}

/** Forget the cached index: call after changing a constellation by hand. */
export function dropIndex(c: Constellation): void {
  indexes.delete(c);
}

/** The dependency from -> to, if any (O(1)). */
export function edgeOf(idx: DependencyIndex, from: string, to: string): Dependency | undefined {
  const out = idx.links.get(from)?.out;
  const inn = idx.links.get(to)?.in;
  if (!out || !inn) return undefined;
  if (out.length <= inn.length) return out.find((d) => d.to === to);
  return inn.find((d) => d.from === from);
}

/** Remove one edge from a link array (order is not kept). */
export function dropLink(list: Dependency[], dep: Dependency): void {
  const i = list.indexOf(dep);
  if (i < 0) return;
  list[i] = list[list.length - 1]!;
  list.pop();
}

export function linksOf(idx: DependencyIndex, id: string): TaskLinks {
  const l = idx.links.get(id);
  if (!l) throw new Error(`unknown task ${id}`);
  return l;
}
