// Turns the small "add a task" / "add a dependency" forms into edit
// operations the server accepts (POST /v1/constellations/:id/edits). The
// server checks everything again (ids, cycles, references) and answers with
// a precise problem; these helpers only shape the request.

import type { DependencyKind, EditOperation, TaskSpec } from '../api/types.js';

export interface AddTaskForm {
  id: string;
  name: string;
  command: string;
  /** Comma or space separated. */
  labels: string;
  device: string;
  /** Task ids this one needs, comma or space separated. */
  needs: string;
  needsKind: DependencyKind;
}

export interface AddDependencyForm {
  from: string;
  to: string;
  kind: DependencyKind;
  condition: string;
}

export const EMPTY_ADD_TASK: AddTaskForm = {
  id: '',
  name: '',
  command: '',
  labels: '',
  device: '',
  needs: '',
  needsKind: 'success',
};

export const EMPTY_ADD_DEPENDENCY: AddDependencyForm = { from: '', to: '', kind: 'success', condition: '' };

/** Splits "a, b c" into ["a", "b", "c"], dropping empties and repeats. */
export function splitList(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter(Boolean))];
}

/** The defaults a graph document would get for a task given only `run` (docs/graph-format.md). */
const DEFAULT_RETRY = { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60_000, multiplier: 2 };

export function addTaskOperation(form: AddTaskForm): EditOperation {
  const id = form.id.trim();
  const labels = splitList(form.labels);
  const device = form.device.trim();
  const task: TaskSpec = {
    id,
    name: form.name.trim() || id,
    target: { ...(labels.length ? { labels } : {}), ...(device ? { device } : {}) },
    executor: { kind: 'shell', command: form.command },
    inputs: {},
    outputs: {},
    priority: 0,
    retry: { ...DEFAULT_RETRY },
  };
  const needs = splitList(form.needs).map((from) => ({ from, kind: form.needsKind }));
  return needs.length ? { op: 'add_task', task, needs } : { op: 'add_task', task };
}

export function addDependencyOperation(form: AddDependencyForm): EditOperation {
  const dependency = {
    from: form.from.trim(),
    to: form.to.trim(),
    kind: form.kind,
    ...(form.kind === 'condition' ? { condition: form.condition.trim() } : {}),
  };
  return { op: 'add_dependency', dependency };
}
