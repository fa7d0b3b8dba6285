// Checks a proposed edit batch without touching the real constellation:
// tasks given in the graph format become TaskSpecs, targets are checked
// against the known devices, and the batch is applied to a copy (the same
// rules as the edit API, so a proposal that passes here applies cleanly
// unless the constellation moves on).
import { type GraphIssue, schemaIssues } from '../graph/index.js';
import { buildSpec, type RawGraph, type RawTask } from '../graph/normalise.js';
import { applyEdit } from '../model/index.js';
import type { Constellation, EditOperation, TaskSpec } from '../model/types.js';
import { targetProblems } from './device-profiles.js';
import type { DeviceProfile } from './types.js';

/** A task in the graph format (as a model writes it) -> TaskSpec, or the problems. */
export function taskFromRaw(id: string, raw: unknown): { spec?: TaskSpec; problems: string[] } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { problems: [`task ${id} must be an object`] };
  const { needs: _needs, ...task } = raw as RawTask & Record<string, unknown>;
  const doc = { name: 'edit', tasks: { [id]: task } };
  const issues = schemaIssues(doc);
  if (issues.length > 0) return { problems: issues.map((i) => `${i.path}: ${i.message}`) };
  const built: GraphIssue[] = [];
  const spec = buildSpec(doc as RawGraph, built);
  if (built.length > 0) return { problems: built.map((i) => i.message) };
  return { spec: spec.tasks[0]!, problems: [] };
}

/**
 * Turns operations written by a model (tasks in the graph format, needs as
 * ids or { from, kind }) into EditOperations, collecting problems.
 */
export function operationsFromModel(raw: unknown): { operations: EditOperation[]; problems: string[] } {
  const problems: string[] = [];
  const operations: EditOperation[] = [];
  if (!Array.isArray(raw)) return { operations, problems: ['"operations" must be a list'] };
  raw.forEach((op: Record<string, unknown>, i) => {
    const where = `operations[${i}]`;
    if (!op || typeof op !== 'object') {
      problems.push(`${where} must be an object`);
      return;
    }
    if (op.op === 'add_task' || op.op === 'update_task') {
      const rawTask = op.task as Record<string, unknown> | undefined;
      const id = (op.taskId ?? op.id ?? rawTask?.id) as unknown;
      if (typeof id !== 'string') {
        problems.push(`${where}: ${op.op} needs "taskId" (the task id)`);
        return;
      }
      const { id: _id, ...task } = (rawTask ?? {}) as Record<string, unknown>;
      const converted = taskFromRaw(id, task);
      if (!converted.spec) {
        problems.push(...converted.problems.map((p) => `${where}: ${p}`));
        return;
      }
      if (op.op === 'update_task') {
        operations.push({ op: 'update_task', taskId: id, task: converted.spec });
        return;
      }
      const needsRaw = (op.needs ?? task.needs ?? []) as unknown;
      const needs = Array.isArray(needsRaw)
        ? needsRaw.map((n) => (typeof n === 'string' ? { from: n } : (n as { from: string; kind?: 'success' })))
        : Object.entries(needsRaw as Record<string, string>).map(([from, kind]) => ({ from, kind: kind as 'success' }));
      operations.push({ op: 'add_task', task: converted.spec, ...(needs.length > 0 ? { needs } : {}) });
      return;
    }
    operations.push(op as unknown as EditOperation);
  });
  return { operations, problems };
}

/**
 * A copy an edit may change without touching the original. The model never
 * mutates a TaskState or a Dependency (it replaces them in the task map and
 * the edge list), so copying those two containers is enough; the dependency
 * index is rebuilt for the copy. A deep clone of a 100k-task constellation
 * would hold the orchestrator's thread for seconds.
 */
export function editableCopy(c: Constellation): Constellation {
  return { ...c, tasks: { ...c.tasks }, dependencies: [...c.dependencies] };
}

/** Problems with applying `operations` to the constellation now; empty when the batch would apply. */
export function checkEditBatch(
  c: Constellation,
  operations: EditOperation[],
  devices: readonly DeviceProfile[],
): string[] {
  const problems: string[] = [];
  for (const [i, op] of operations.entries()) {
    if (op.op === 'add_task' || op.op === 'update_task') {
      for (const p of targetProblems(op.task.target, devices)) problems.push(`operations[${i}] (${op.task.id}): ${p}`);
    }
  }
  if (problems.length > 0) return problems;
  const res = applyEdit(editableCopy(c), { revision: c.revision, operations }, Date.now());
  if (!res.ok) {
    const at = res.error.operationIndex >= 0 ? `operations[${res.error.operationIndex}]: ` : '';
    problems.push(`${at}${res.error.code}: ${res.error.message}`);
  }
  return problems;
}
