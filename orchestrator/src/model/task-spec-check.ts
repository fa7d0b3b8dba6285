// Shape checks for a TaskSpec that arrives through an edit (the graph format
// has its own JSON Schema; edits carry normalised specs).

import { executorSpecProblem } from '../graph/executor-args.js';
import type { TaskSpec } from './types.js';

export const TASK_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const isStringRecord = (v: unknown): boolean => isRecord(v) && Object.values(v).every((x) => typeof x === 'string');

/** Why a spec is malformed, or null. */
export function taskSpecProblem(spec: unknown): string | null {
  if (!isRecord(spec)) return 'task must be an object';
  const t = spec as Partial<TaskSpec>;
  if (typeof t.id !== 'string' || !TASK_ID_PATTERN.test(t.id) || t.id === '__proto__') {
    return `task id ${JSON.stringify(t.id)} must match ${TASK_ID_PATTERN.source}`;
  }
  if (typeof t.name !== 'string') return 'task name must be a string';
  if (!isRecord(t.target)) return 'task target must be an object';
  if (!isRecord(t.executor) || typeof t.executor.kind !== 'string' || t.executor.kind === '') {
    return 'task executor must be an object with a kind';
  }
  if (t.executor.kind === 'shell' && typeof t.executor.command !== 'string') return 'shell executor needs a command';
  if (t.executor.env !== undefined && !isStringRecord(t.executor.env)) return 'executor env values must be strings';
  if (!isStringRecord(t.inputs)) return 'task inputs must map names to strings';
  if (!isRecord(t.outputs)) return 'task outputs must be an object';
  for (const [name, o] of Object.entries(t.outputs)) {
    if (name === '__proto__') return 'output name __proto__ is reserved';
    const src = o as unknown;
    if (!isRecord(src) || !['stdout', 'file', 'json', 'status', 'header'].includes(String(src.from))) {
      return `output ${name} must have from: stdout | file | json | status | header`;
    }
    if (src.from === 'file' && typeof src.path !== 'string') return `output ${name} needs a file path`;
    if (src.from === 'header' && typeof src.name !== 'string') return `output ${name} needs a header name`;
  }
  if (t.artifacts !== undefined && !isStringRecord(t.artifacts)) return 'task artifacts must map names to paths';
  if (t.artifactInputs !== undefined) {
    if (!isRecord(t.artifactInputs)) return 'task artifactInputs must map paths to { task, artifact }';
    for (const [dest, src] of Object.entries(t.artifactInputs)) {
      const v = src as unknown;
      if (!isRecord(v) || typeof v.task !== 'string' || typeof v.artifact !== 'string') {
        return `artifact input ${dest} must be { task, artifact }`;
      }
    }
  }
  const executorProblem = executorSpecProblem(t.executor, t.outputs as TaskSpec['outputs']);
  if (executorProblem) return `task ${t.id}: ${executorProblem}`;
  if (typeof t.priority !== 'number' || !Number.isFinite(t.priority)) return 'task priority must be a number';
  if (t.timeoutMs !== undefined && !(typeof t.timeoutMs === 'number' && t.timeoutMs > 0)) {
    return 'task timeoutMs must be a positive number';
  }
  const r = t.retry as unknown;
  if (!isRecord(r)) return 'task retry must be an object';
  const { max, initialBackoffMs, maxBackoffMs, multiplier } = r;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) return 'retry.max must be an integer >= 0';
  if (typeof initialBackoffMs !== 'number' || initialBackoffMs < 0) return 'retry.initialBackoffMs must be >= 0';
  if (typeof maxBackoffMs !== 'number' || maxBackoffMs < 0) return 'retry.maxBackoffMs must be >= 0';
  if (typeof multiplier !== 'number' || multiplier < 1) return 'retry.multiplier must be >= 1';
  return null;
}
