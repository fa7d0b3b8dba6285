// What the engine puts in an Assign: the task's executor and inputs with
// every ${{ }} resolved against the constellation's inputs and the outputs
// of finished upstream tasks.

import { resolveTemplate, type TemplateContext } from './template.js';
import type { Constellation, ExecutorSpec } from './types.js';

function resolveDeep(value: unknown, ctx: TemplateContext): unknown {
  if (typeof value === 'string') return resolveTemplate(value, ctx);
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, ctx));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, ctx)]));
  }
  return value;
}

/** Resolved executor and inputs of a task; throws TemplateError when a value is missing. */
export function resolveTaskForDispatch(
  c: Constellation,
  taskId: string,
): { executor: ExecutorSpec; inputs: Record<string, string> } {
  const t = c.tasks[taskId];
  if (!t) throw new Error(`no task ${taskId}`);
  const ctx: TemplateContext = { inputs: c.inputs, tasks: c.tasks };
  return {
    executor: resolveDeep(t.spec.executor, ctx) as ExecutorSpec,
    inputs: resolveDeep(t.spec.inputs, ctx) as Record<string, string>,
  };
}
