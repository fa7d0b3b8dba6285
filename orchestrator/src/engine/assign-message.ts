// Builds the Assign an agent receives: every ${{ }} reference resolved
// against the constellation's inputs and upstream outputs, and every
// artifact input resolved to its producer's stored digest.
import type { Assign } from '@orrery/protocol';
import { artifactAssignFields } from '../artifacts/assign-artifacts.js';
import { resolveTaskForDispatch } from '../model/index.js';
import type { Constellation, TaskState } from '../model/types.js';

export function buildAssign(c: Constellation, t: TaskState, attempt: number, leaseMs: number): Assign {
  const { executor, inputs } = resolveTaskForDispatch(c, t.spec.id);
  return {
    constellationId: c.id,
    taskId: t.spec.id,
    attempt,
    leaseMs,
    timeoutMs: t.spec.timeoutMs ?? 0,
    inputs,
    executor: {
      kind: executor.kind,
      command: executor.command ?? '',
      env: executor.env ?? {},
      cwd: executor.cwd ?? '',
      argsJson: executor.args ? JSON.stringify(executor.args) : '',
    },
    outputs: Object.entries(t.spec.outputs).map(([name, src]) => ({
      name,
      source: src.from,
      path: src.from === 'file' ? src.path : src.from === 'json' ? (src.path ?? '') : src.from === 'header' ? src.name : '',
    })),
    ...artifactAssignFields(c, t),
  };
}
