// Every change to a constellation goes through a Mutation: it keeps the
// dependency index in step, records task status changes for the caller, and
// (for edits) an undo log so a rejected batch leaves no trace. TaskState
// objects are replaced, never modified, so undo only restores references.

import { type DependencyIndex, dropLink, edgeOf, indexOf, isTerminal, linksOf, taskOf } from './dependency-index.js';
import type { Constellation, Dependency, TaskChange, TaskState } from './types.js';

/** Counts the nodes the model visits; tests use it to prove O(affected). */
export interface VisitCounter {
  visited: number;
}

export class Mutation {
  readonly idx: DependencyIndex;
  readonly changes: TaskChange[] = [];
  private readonly undoLog: Array<() => void> | null;

  constructor(
    readonly c: Constellation,
    readonly now: number,
    opts: { undo?: boolean; counter?: VisitCounter } = {},
  ) {
    this.idx = indexOf(c);
    this.undoLog = opts.undo ? [] : null;
    this.counter = opts.counter ?? { visited: 0 };
  }

  readonly counter: VisitCounter;

  visit(): void {
    this.counter.visited++;
  }

  task(id: string): TaskState | undefined {
    return taskOf(this.c, id);
  }

  private log(fn: () => void): void {
    this.undoLog?.push(fn);
  }

  /** Replace a task's state, keeping counters right and recording the change. */
  setTask(id: string, next: TaskState, change?: Omit<TaskChange, 'taskId' | 'from' | 'to'>): void {
    const prev = taskOf(this.c, id);
    if (!prev) throw new Error(`unknown task ${id}`);
    this.c.tasks[id] = next;
    this.log(() => {
      this.c.tasks[id] = prev;
    });
    const wasTerminal = isTerminal(prev.status);
    const nowTerminal = isTerminal(next.status);
    if (wasTerminal !== nowTerminal) this.shiftLive(id, nowTerminal ? -1 : 1);
    if (prev.status !== next.status) {
      this.changes.push({ taskId: id, from: prev.status, to: next.status, ...change });
    }
  }

  /** A task left or entered the non-terminal set: adjust live and out-neighbours' unmet. */
  private shiftLive(id: string, delta: 1 | -1): void {
    this.idx.live += delta;
    const out = linksOf(this.idx, id).out;
    for (const d of out) linksOf(this.idx, d.to).unmet += delta;
    this.log(() => {
      this.idx.live -= delta;
      for (const d of out) linksOf(this.idx, d.to).unmet -= delta;
    });
  }

  insertTask(state: TaskState): void {
    const id = state.spec.id;
    this.c.tasks[id] = state;
    this.idx.links.set(id, { in: [], out: [], unmet: 0 });
    if (!isTerminal(state.status)) this.idx.live++;
    this.changes.push({ taskId: id, from: null, to: state.status });
    this.log(() => {
      delete this.c.tasks[id];
      this.idx.links.delete(id);
      if (!isTerminal(state.status)) this.idx.live--;
    });
  }

  /** Remove a task that has no edges left. */
  deleteTask(id: string): void {
    const prev = taskOf(this.c, id);
    const links = this.idx.links.get(id);
    if (!prev || !links) throw new Error(`unknown task ${id}`);
    if (links.in.length || links.out.length) throw new Error(`task ${id} still has edges`);
    delete this.c.tasks[id];
    this.idx.links.delete(id);
    if (!isTerminal(prev.status)) this.idx.live--;
    this.changes.push({ taskId: id, from: prev.status, to: null });
    this.log(() => {
      this.c.tasks[id] = prev;
      this.idx.links.set(id, links);
      if (!isTerminal(prev.status)) this.idx.live++;
    });
  }

  insertEdge(dep: Dependency): void {
    const deps = this.c.dependencies;
    deps.push(dep);
    this.idx.edgePos.set(dep, deps.length - 1);
    const fromLinks = linksOf(this.idx, dep.from);
    const toLinks = linksOf(this.idx, dep.to);
    fromLinks.out.push(dep);
    toLinks.in.push(dep);
    const counts = !isTerminal(this.c.tasks[dep.from]!.status);
    if (counts) toLinks.unmet++;
    this.log(() => {
      deps.pop();
      this.idx.edgePos.delete(dep);
      dropLink(fromLinks.out, dep);
      dropLink(toLinks.in, dep);
      if (counts) toLinks.unmet--;
    });
  }

  /** Remove an edge in O(1): the last edge takes its slot in the array. */
  deleteEdge(from: string, to: string): Dependency {
    const deps = this.c.dependencies;
    const dep = edgeOf(this.idx, from, to);
    const pos = dep && this.idx.edgePos.get(dep);
    if (!dep || pos === undefined) throw new Error(`no dependency ${from} -> ${to}`);
    const last = deps.pop()!;
    const moved = pos < deps.length;
    if (moved) {
      deps[pos] = last;
      this.idx.edgePos.set(last, pos);
    }
    this.idx.edgePos.delete(dep);
    const fromLinks = linksOf(this.idx, from);
    const toLinks = linksOf(this.idx, to);
    dropLink(fromLinks.out, dep);
    dropLink(toLinks.in, dep);
    const counted = !isTerminal(this.c.tasks[from]!.status);
    if (counted) toLinks.unmet--;
    this.log(() => {
      if (moved) {
        deps.push(deps[pos]!);
        deps[pos] = dep;
        this.idx.edgePos.set(last, deps.length - 1);
      } else deps.push(dep);
      this.idx.edgePos.set(dep, pos);
      fromLinks.out.push(dep);
      toLinks.in.push(dep);
      if (counted) toLinks.unmet++;
    });
    return dep;
  }

  /** Set a constellation-level field with undo. */
  setField<K extends 'status' | 'updatedAt' | 'revision'>(key: K, value: Constellation[K]): void {
    const prev = this.c[key];
    this.c[key] = value;
    this.log(() => {
      this.c[key] = prev;
    });
  }

  /** Undo everything this mutation did, newest first. */
  rollback(): void {
    if (!this.undoLog) throw new Error('this mutation has no undo log');
    for (let i = this.undoLog.length - 1; i >= 0; i--) this.undoLog[i]!();
    this.undoLog.length = 0;
    this.changes.length = 0;
  }
}

/** A copy of a task state without the given optional fields. */
export function withoutFields(t: TaskState, ...keys: Array<keyof TaskState>): TaskState {
  const next = { ...t };
  for (const k of keys) delete next[k];
  return next;
}
