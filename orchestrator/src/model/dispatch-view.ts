// What the engine puts in an Assign: the task's executor and inputs with
// every ${{ }} resolved against the constellation's inputs and the outputs
// of finished upstream tasks.

import { taskOf } from './dependency-index.js';
import { resolveTemplate, type TemplateContext } from './template.js';
import type { Constellation, ExecutorSpec } from './types.js';

type Missing = 'empty' | 'error';

function resolveDeep(value: unknown, ctx: TemplateContext, missing: Missing): unknown {
  if (typeof value === 'string') return resolveTemplate(value, ctx, { missing });
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, ctx, missing));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveDeep(v, ctx, missing)]));
  }
  return value;
}

/**
 * Resolved executor and inputs of a task. References are validated at
 * submit/edit time, so a value can only be missing when the upstream did
 * not succeed (completion/failure/condition dependencies) or did not report
 * the output: by default that reads as "" (like GitHub Actions); pass
 * `missing: 'error'` to get a TemplateError instead.
 */
export function resolveTaskForDispatch(
  c: Constellation,
  taskId: string,
  opts: { missing?: Missing } = {},
): { executor: ExecutorSpec; inputs: Record<string, string> } {
  const t = taskOf(c, taskId);
  if (!t) throw new Error(`no task ${taskId}`);
  const ctx: TemplateContext = { inputs: c.inputs, tasks: c.tasks };
  const missing = opts.missing ?? 'empty';
  return {
    executor: resolveDeep(t.spec.executor, ctx, missing) as ExecutorSpec,
    inputs: resolveDeep(t.spec.inputs, ctx, missing) as Record<string, string>,
  };
}
