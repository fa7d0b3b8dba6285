// Which tasks and inputs a task reads (templates in its executor and inputs,
// conditions on its in-edges), and whether each reference is valid: the
// input is declared, the task exists, declares the output, and is upstream
// (directly or transitively) so its value exists before the task runs.

import { conditionReferences, parseCondition } from './condition-parse.js';
import type { VisitCounter } from './mutation.js';
import { formatReference, type Reference, scanTemplate, type TemplateProblem } from './template.js';
import type { OutputSource, TaskSpec } from './types.js';

export interface TemplateField {
  /** JSON-pointer-like segments inside the task spec (e.g. ['executor','env','FOO']). */
  path: string[];
  value: string;
}

function collectStrings(value: unknown, path: string[], out: TemplateField[]): void {
  if (typeof value === 'string') {
    if (value.includes('${{')) out.push({ path, value });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      collectStrings(v, [...path, String(i)], out);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectStrings(v, [...path, k], out);
  }
}

/** The template-bearing strings of a task spec. */
export function templateFields(spec: TaskSpec): TemplateField[] {
  const out: TemplateField[] = [];
  collectStrings(spec.executor, ['executor'], out);
  collectStrings(spec.inputs, ['inputs'], out);
  return out;
}

export interface FieldReference {
  path: string[];
  ref: Reference;
}

/** References of a task's templates, plus malformed expressions. */
export function taskTemplateReferences(spec: TaskSpec): {
  refs: FieldReference[];
  problems: Array<TemplateProblem & { path: string[] }>;
} {
  const refs: FieldReference[] = [];
  const problems: Array<TemplateProblem & { path: string[] }> = [];
  for (const f of templateFields(spec)) {
    const scanned = scanTemplate(f.value);
    for (const r of scanned.refs) refs.push({ path: f.path, ref: r.ref });
    for (const p of scanned.problems) problems.push({ ...p, path: f.path });
  }
  return { refs, problems };
}

/** References of a condition; throws ConditionSyntaxError. */
export function conditionRefs(condition: string): Reference[] {
  return conditionReferences(parseCondition(condition));
}

/** Read-only view of a graph for reference checks. */
export interface RefGraph {
  inputs: Record<string, string>;
  outputsOf(task: string): Record<string, OutputSource> | undefined;
  parents(task: string): Iterable<string>;
}

/** Is `ancestor` upstream of `task`? Checks direct parents first, then walks up. */
export function isAncestor(
  parents: (task: string) => Iterable<string>,
  ancestor: string,
  task: string,
  counter?: VisitCounter,
): boolean {
  const seen = new Set<string>([task]);
  const stack = [task];
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const p of parents(id)) {
      if (counter) counter.visited++;
      if (p === ancestor) return true;
      if (!seen.has(p)) {
        seen.add(p);
        stack.push(p);
      }
    }
  }
  return false;
}

/** Why `ref`, read by `task`, is invalid; null when it is fine. */
export function checkReference(ref: Reference, task: string, g: RefGraph, counter?: VisitCounter): string | null {
  if (ref.kind === 'input') {
    return Object.hasOwn(g.inputs, ref.name)
      ? null
      : `${formatReference(ref)}: the graph declares no input "${ref.name}"`;
  }
  const outputs = g.outputsOf(ref.task);
  if (!outputs) return `${formatReference(ref)}: there is no task "${ref.task}"`;
  if (ref.kind === 'output' && !Object.hasOwn(outputs, ref.name)) {
    return `${formatReference(ref)}: task "${ref.task}" declares no output "${ref.name}"`;
  }
  if (ref.task === task || !isAncestor((t) => g.parents(t), ref.task, task, counter)) {
    return `${formatReference(ref)}: task "${ref.task}" is not upstream of "${task}" (add it to needs)`;
  }
  return null;
}
