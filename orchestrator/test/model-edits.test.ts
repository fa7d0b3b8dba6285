// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the template syntax under test
import { describe, expect, it } from 'vitest';
import { parseGraph } from '../src/graph/index.js';
import {
  applyEdit,
  assignTask,
  checkInvariants,
  type Constellation,
  completeTask,
  createConstellation,
  type EditOperation,
  type EditResult,
  invertEdit,
  startTask,
  type TaskSpec,
  type TaskStatus,
} from '../src/model/index.js';

function make(yaml: string): Constellation {
  return createConstellation(parseGraph(yaml), { id: 'c1', owner: 'alice', now: 1000 });
}

const statuses = (c: Constellation): Record<string, TaskStatus> =>
  Object.fromEntries(Object.entries(c.tasks).map(([id, t]) => [id, t.status]));

function spec(id: string, extra: Partial<TaskSpec> = {}): TaskSpec {
  return {
    id,
    name: id,
    target: {},
    executor: { kind: 'shell', command: `echo ${id}` },
    inputs: {},
    outputs: {},
    priority: 0,
    retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60000, multiplier: 2 },
    ...extra,
  };
}

function edit(c: Constellation, ...operations: EditOperation[]): EditResult {
  const r = applyEdit(c, { revision: c.revision, operations, author: 'bob', comment: 'test' }, 5000);
  expect(checkInvariants(c)).toEqual([]);
  return r;
}

function rejected(c: Constellation, code: string, ...operations: EditOperation[]) {
  const before = structuredClone(c);
  const r = edit(c, ...operations);
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('accepted');
  expect(r.error.code).toBe(code);
  expect(c).toEqual(before);
  return r.error;
}

function finish(c: Constellation, id: string, outcome: 'succeeded' | 'failed', outputs: Record<string, string> = {}) {
  const a = assignTask(c, id, { deviceId: 'd', now: 2000 });
  if (!a.ok) throw new Error(a.message);
  completeTask(c, id, a.attempt!, { outcome, outputs }, 2001);
}

const CHAIN = `name: chain
tasks:
  a: { run: echo a, outputs: { v: stdout } }
  b: { run: echo b, needs: [a], outputs: { w: stdout } }
  c: { run: "echo \${{ tasks.b.outputs.w }}", needs: [b] }
`;

describe('applyEdit', () => {
  it('adds a task with needs, bumps the revision and records the batch', () => {
    const c = make(CHAIN);
    const r = edit(c, {
      op: 'add_task',
      task: spec('d', { executor: { kind: 'shell', command: 'echo ${{ tasks.a.outputs.v }}' } }),
      needs: [{ from: 'a' }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(c.revision).toBe(2);
    expect(c.tasks.d!.status).toBe('pending');
    expect(r.changes).toEqual([{ taskId: 'd', from: null, to: 'pending' }]);
    expect(r.record).toMatchObject({ revision: 2, author: 'bob', comment: 'test', at: 5000 });
    expect(r.record.inverse).toEqual([{ op: 'remove_task', taskId: 'd' }]);
    expect(c.dependencies).toContainEqual({ from: 'a', to: 'd', kind: 'success' });
  });

  it('a task added under a finished upstream is ready at once (or skipped)', () => {
    const c = make(CHAIN);
    finish(c, 'a', 'succeeded', { v: '1' });
    edit(
      c,
      { op: 'add_task', task: spec('x'), needs: [{ from: 'a' }] },
      { op: 'add_task', task: spec('y'), needs: [{ from: 'a', kind: 'failure' }] },
    );
    expect(statuses(c)).toMatchObject({ x: 'ready', y: 'skipped' });
  });

  it('rejects a stale revision with EDIT_REVISION_CONFLICT', () => {
    const c = make(CHAIN);
    const before = structuredClone(c);
    const r = applyEdit(c, { revision: 7, operations: [{ op: 'skip_task', taskId: 'c' }] }, 1);
    expect(r).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'EDIT_REVISION_CONFLICT', operationIndex: -1 }),
    });
    expect(c).toEqual(before);
  });

  it('is atomic: a later failing operation undoes earlier ones', () => {
    const c = make(CHAIN);
    const e = rejected(
      c,
      'EDIT_UNKNOWN_TASK',
      { op: 'add_task', task: spec('x'), needs: [{ from: 'a' }] },
      { op: 'add_dependency', dependency: { from: 'x', to: 'c', kind: 'completion' } },
      { op: 'skip_task', taskId: 'b' },
      { op: 'add_dependency', dependency: { from: 'ghost', to: 'x', kind: 'success' } },
    );
    expect(e.operationIndex).toBe(3);
    // A reference broken by operation 0 is reported at index 0, after the batch.
    const e2 = rejected(
      c,
      'EDIT_UNKNOWN_REFERENCE',
      { op: 'remove_dependency', from: 'b', to: 'c' },
      { op: 'skip_task', taskId: 'a' },
    );
    expect(e2.operationIndex).toBe(0);
    // A shallow check of a task earlier in the batch does not hide a later deep one.
    const e3 = rejected(
      c,
      'EDIT_UNKNOWN_REFERENCE',
      { op: 'add_task', task: spec('x') },
      { op: 'add_dependency', dependency: { from: 'x', to: 'b', kind: 'success' } },
      { op: 'update_task', taskId: 'b', task: spec('b') },
    );
    expect(e3.operationIndex).toBe(2);
  });

  it('detects cycles incrementally and names them', () => {
    const c = make(CHAIN);
    const e = rejected(c, 'EDIT_CYCLE', { op: 'add_dependency', dependency: { from: 'c', to: 'a', kind: 'success' } });
    expect(e.cycle).toEqual(['c', 'a', 'b', 'c']);
    expect(e.message).toContain('c -> a -> b -> c');
    rejected(c, 'EDIT_CYCLE', { op: 'add_dependency', dependency: { from: 'a', to: 'a', kind: 'success' } });
  });

  it('protects started tasks (EDIT_TASK_STARTED) and terminal ones (EDIT_TERMINAL)', () => {
    const c = make(CHAIN);
    assignTask(c, 'a', { deviceId: 'd', now: 1 });
    rejected(c, 'EDIT_TASK_STARTED', { op: 'update_task', taskId: 'a', task: spec('a') });
    rejected(c, 'EDIT_TASK_STARTED', { op: 'remove_task', taskId: 'a' });
    rejected(c, 'EDIT_TASK_STARTED', { op: 'skip_task', taskId: 'a' });
    rejected(
      c,
      'EDIT_TASK_STARTED',
      { op: 'add_task', task: spec('z') },
      { op: 'add_dependency', dependency: { from: 'z', to: 'a', kind: 'success' } },
    );
    completeTask(c, 'a', 1, { outcome: 'succeeded', outputs: { v: '1' } }, 2);
    rejected(c, 'EDIT_TERMINAL', { op: 'cancel_task', taskId: 'a' });
    rejected(c, 'EDIT_INVALID', { op: 'retry_task', taskId: 'a' });
  });

  it('rejects duplicates, unknown tasks, bad specs and bad conditions', () => {
    const c = make(CHAIN);
    rejected(c, 'EDIT_DUPLICATE_TASK', { op: 'add_task', task: spec('a') });
    rejected(c, 'EDIT_UNKNOWN_TASK', { op: 'remove_task', taskId: 'nope' });
    rejected(c, 'EDIT_UNKNOWN_TASK', { op: 'add_task', task: spec('x'), needs: [{ from: 'nope' }] });
    rejected(c, 'EDIT_INVALID', { op: 'add_task', task: spec('bad id') });
    rejected(c, 'EDIT_INVALID', { op: 'update_task', taskId: 'b', task: spec('renamed') });
    rejected(c, 'EDIT_INVALID', {
      op: 'add_task',
      task: spec('x'),
      needs: [{ from: 'a', kind: 'condition', condition: 'tasks.a.status ==' }],
    });
    rejected(c, 'EDIT_INVALID', { op: 'add_dependency', dependency: { from: 'a', to: 'b', kind: 'success' } });
    rejected(c, 'EDIT_INVALID', { op: 'remove_dependency', from: 'a', to: 'c' });
    rejected(c, 'EDIT_INVALID', { op: 'frobnicate' } as unknown as EditOperation);
  });

  it('rejects edits that break references (EDIT_UNKNOWN_REFERENCE)', () => {
    const c = make(CHAIN);
    // c reads tasks.b.outputs.w: removing the edge, the task or the output breaks it.
    rejected(c, 'EDIT_UNKNOWN_REFERENCE', { op: 'remove_dependency', from: 'b', to: 'c' });
    rejected(c, 'EDIT_UNKNOWN_REFERENCE', { op: 'update_task', taskId: 'b', task: spec('b') });
    rejected(c, 'EDIT_UNKNOWN_REFERENCE', {
      op: 'add_task',
      task: spec('x', { inputs: { q: '${{ tasks.c.outputs.none }}' } }),
      needs: [{ from: 'c' }],
    });
    rejected(c, 'EDIT_UNKNOWN_REFERENCE', { op: 'add_task', task: spec('x', { inputs: { q: '${{ inputs.nope }}' } }) });
    rejected(c, 'EDIT_UNKNOWN_REFERENCE', {
      op: 'add_task',
      task: spec('x'),
      needs: [{ from: 'b', condition: "tasks.c.status == 'succeeded'" }],
    });
    // Rewiring c to a with a is fine once c no longer reads b.
    const r = edit(
      c,
      {
        op: 'update_task',
        taskId: 'c',
        task: spec('c', { executor: { kind: 'shell', command: 'echo ${{ tasks.a.outputs.v }}' } }),
      },
      { op: 'remove_dependency', from: 'b', to: 'c' },
      { op: 'add_dependency', dependency: { from: 'a', to: 'c', kind: 'success' } },
    );
    expect(r.ok).toBe(true);
  });

  it('removing the last unmet dependency makes a task ready', () => {
    const c = make(`name: r
tasks:
  a: { run: echo }
  b: { run: echo, needs: [a] }
`);
    const r = edit(c, { op: 'remove_dependency', from: 'a', to: 'b' });
    expect(r.ok && r.changes).toEqual([{ taskId: 'b', from: 'pending', to: 'ready' }]);
    const r2 = edit(c, { op: 'add_dependency', dependency: { from: 'a', to: 'b', kind: 'success' } });
    expect(r2.ok && r2.changes).toEqual([{ taskId: 'b', from: 'ready', to: 'pending' }]);
  });

  it('cancelling a running task reports the attempt to cancel and skips its dependents', () => {
    const c = make(CHAIN);
    assignTask(c, 'a', { deviceId: 'phone', now: 1 });
    startTask(c, 'a', 1, 2);
    const r = edit(c, { op: 'cancel_task', taskId: 'a' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.changes[0]).toEqual({
      taskId: 'a',
      from: 'running',
      to: 'cancelled',
      reason: 'cancelled by edit',
      cancelAttempt: { attempt: 1, deviceId: 'phone' },
    });
    expect(statuses(c)).toEqual({ a: 'cancelled', b: 'skipped', c: 'skipped' });
    expect(c.status).toBe('succeeded');
    expect(r.status).toEqual({ from: 'running', to: 'succeeded' });
    expect(r.record.inverse).toBeUndefined();
    expect(completeTask(c, 'a', 1, { outcome: 'succeeded' }, 3)).toMatchObject({ ok: false, stale: true });
  });

  it('retry revives a failed task and its skipped dependents, and reopens the constellation', () => {
    const c = make(CHAIN);
    finish(c, 'a', 'failed');
    expect(c.status).toBe('failed');
    const r = edit(c, { op: 'retry_task', taskId: 'a' });
    expect(r.ok && r.status).toEqual({ from: 'failed', to: 'running' });
    expect(statuses(c)).toEqual({ a: 'ready', b: 'pending', c: 'pending' });
    expect(c.tasks.a!.retryBase).toBe(1);
    finish(c, 'a', 'succeeded', { v: 'x' });
    expect(c.tasks.a!.attempts).toHaveLength(2);
    expect(statuses(c)).toEqual({ a: 'succeeded', b: 'ready', c: 'pending' });
  });

  it('retry keeps dependents skipped when another upstream still rules them out', () => {
    const c = make(`name: two
tasks:
  a: { run: "false" }
  b: { run: "false" }
  j: { run: echo, needs: [a, b] }
`);
    finish(c, 'a', 'failed');
    finish(c, 'b', 'failed');
    edit(c, { op: 'retry_task', taskId: 'a' });
    expect(statuses(c)).toEqual({ a: 'ready', b: 'failed', j: 'skipped' });
  });

  it('retry leaves dependents that already started alone', () => {
    const c = make(`name: started
tasks:
  a: { run: "false" }
  cleanup: { run: echo, needs: { a: completion } }
  after: { run: echo, needs: { cleanup: completion } }
`);
    finish(c, 'a', 'failed');
    assignTask(c, 'cleanup', { deviceId: 'd', now: 3000 });
    const r = edit(c, { op: 'retry_task', taskId: 'a' });
    expect(r.ok).toBe(true);
    expect(statuses(c)).toEqual({ a: 'ready', cleanup: 'assigned', after: 'pending' });
    finish(c, 'a', 'succeeded');
    expect(completeTask(c, 'cleanup', 1, { outcome: 'succeeded' }, 4000).ok).toBe(true);
    expect(statuses(c)).toEqual({ a: 'succeeded', cleanup: 'succeeded', after: 'ready' });
    expect(checkInvariants(c)).toEqual([]);
  });

  it('a started dependent requeued while its upstream is retried waits for it', () => {
    const c = make(`name: requeue
tasks:
  a: { run: "false" }
  cleanup: { run: echo, needs: { a: completion } }
`);
    finish(c, 'a', 'failed');
    assignTask(c, 'cleanup', { deviceId: 'd', now: 3000 });
    edit(c, { op: 'retry_task', taskId: 'a' });
    const r = completeTask(c, 'cleanup', 1, { outcome: 'lost' }, 3001);
    expect(r.ok && r.changes).toEqual([
      { taskId: 'cleanup', from: 'assigned', to: 'pending', reason: 'attempt 1 lost; requeued' },
    ]);
    finish(c, 'a', 'succeeded');
    expect(c.tasks.cleanup!.status).toBe('ready');
    expect(checkInvariants(c)).toEqual([]);
  });

  it('invertEdit undoes a batch on tasks that have not started', () => {
    const c = make(CHAIN);
    const snapshot = structuredClone(c);
    const r = edit(
      c,
      { op: 'add_task', task: spec('x'), needs: [{ from: 'b', kind: 'completion' }] },
      { op: 'add_dependency', dependency: { from: 'x', to: 'c', kind: 'success' } },
      { op: 'update_task', taskId: 'a', task: spec('a', { priority: 3, outputs: { v: { from: 'stdout' } } }) },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const undo = invertEdit(r.record, c.revision, 'bob');
    expect(undo).not.toBeNull();
    const u = applyEdit(c, undo!, 6000);
    expect(u.ok).toBe(true);
    expect(checkInvariants(c)).toEqual([]);
    expect(statuses(c)).toEqual(statuses(snapshot));
    expect(new Set(c.dependencies.map((d) => `${d.from}>${d.to}`))).toEqual(
      new Set(snapshot.dependencies.map((d) => `${d.from}>${d.to}`)),
    );
    expect(c.revision).toBe(3);
    expect(c.tasks.a!.spec.priority).toBe(0);
  });

  it('offers no undo when a batch skipped tasks by rewiring them', () => {
    const c = make(`name: cond
tasks:
  a: { run: "false" }
  b: { run: echo }
  c: { run: echo, needs: { a: { if: "tasks.a.status == 'succeeded'" }, b: success } }
`);
    finish(c, 'a', 'failed');
    const r = edit(c, { op: 'remove_dependency', from: 'b', to: 'c' });
    expect(c.tasks.c!.status).toBe('skipped');
    expect(r.ok && invertEdit(r.record, c.revision)).toBeNull();
  });

  it('remove_task inverse restores edges both ways', () => {
    const c = make(CHAIN);
    edit(c, { op: 'update_task', taskId: 'c', task: spec('c') });
    const r = edit(c, { op: 'remove_task', taskId: 'b' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(statuses(c)).toEqual({ a: 'ready', c: 'ready' });
    expect(applyEdit(c, invertEdit(r.record, c.revision)!, 7000).ok).toBe(true);
    expect(statuses(c)).toEqual({ a: 'ready', b: 'pending', c: 'pending' });
    expect(checkInvariants(c)).toEqual([]);
  });

  it('rejects every edit on a cancelled constellation and empty batches', () => {
    const c = make(CHAIN);
    rejected(c, 'EDIT_INVALID');
    edit(c, { op: 'cancel_task', taskId: 'a' });
    c.status = 'cancelled';
    rejected(c, 'EDIT_TERMINAL', { op: 'retry_task', taskId: 'a' });
  });
});
