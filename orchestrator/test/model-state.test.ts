import { describe, expect, it } from 'vitest';
import { parseGraph } from '../src/graph/index.js';
import {
  assignTask,
  backoffDelay,
  cancelConstellation,
  checkInvariants,
  type Constellation,
  completeTask,
  createConstellation,
  pauseConstellation,
  resolveTaskForDispatch,
  resumeConstellation,
  startTask,
  type TaskStatus,
} from '../src/model/index.js';

function make(yaml: string): Constellation {
  return createConstellation(parseGraph(yaml), { id: 'c1', owner: 'alice', now: 1000 });
}

function statuses(c: Constellation): Record<string, TaskStatus> {
  return Object.fromEntries(Object.entries(c.tasks).map(([id, t]) => [id, t.status]));
}

/** Assign, start and finish the current attempt of a task. */
function run(
  c: Constellation,
  id: string,
  outcome: 'succeeded' | 'failed' | 'timed_out',
  outputs: Record<string, string> = {},
  now = 2000,
) {
  const a = assignTask(c, id, { deviceId: 'dev1', now });
  if (!a.ok) throw new Error(`${id}: ${a.message}`);
  expect(startTask(c, id, a.attempt!, now).ok).toBe(true);
  const r = completeTask(c, id, a.attempt!, { outcome, outputs, exitCode: outcome === 'succeeded' ? 0 : 1 }, now + 10);
  if (!r.ok) throw new Error(`${id}: ${r.message}`);
  expect(checkInvariants(c)).toEqual([]);
  return r;
}

const DIAMOND = `name: diamond
tasks:
  a: { run: echo a, outputs: { v: stdout } }
  b: { run: echo b, needs: [a] }
  c: { run: echo c, needs: [a] }
  d: { run: "echo \${{ tasks.a.outputs.v }}", needs: [b, c] }
`;

describe('createConstellation', () => {
  it('starts running at revision 1 with roots ready', () => {
    const c = make(DIAMOND);
    expect(c).toMatchObject({
      id: 'c1',
      owner: 'alice',
      name: 'diamond',
      revision: 1,
      status: 'running',
      createdAt: 1000,
    });
    expect(statuses(c)).toEqual({ a: 'ready', b: 'pending', c: 'pending', d: 'pending' });
    expect(checkInvariants(c)).toEqual([]);
    expect(JSON.parse(JSON.stringify(c))).toEqual(c);
  });
});

describe('task state machine', () => {
  it('runs a diamond to success, unlocking dependents through out-edges', () => {
    const c = make(DIAMOND);
    const r = run(c, 'a', 'succeeded', { v: 'hello' });
    expect(
      r.ok &&
        r.changes
          .filter((ch) => ch.to === 'ready')
          .map((ch) => ch.taskId)
          .sort(),
    ).toEqual(['b', 'c']);
    run(c, 'b', 'succeeded');
    expect(c.tasks.d!.status).toBe('pending');
    run(c, 'c', 'succeeded');
    expect(c.tasks.d!.status).toBe('ready');
    expect(resolveTaskForDispatch(c, 'd').executor.command).toBe('echo hello');
    const last = run(c, 'd', 'succeeded');
    expect(last.ok && last.status).toEqual({ from: 'running', to: 'succeeded' });
    expect(c.status).toBe('succeeded');
    expect(c.tasks.a!.outputs).toEqual({ v: 'hello' });
    expect(c.tasks.a!.attempts).toEqual([
      {
        number: 1,
        deviceId: 'dev1',
        assignedAt: 2000,
        startedAt: 2000,
        endedAt: 2010,
        outcome: 'succeeded',
        exitCode: 0,
      },
    ]);
  });

  it('skips success dependents of a failed task, transitively, and fails the constellation', () => {
    const c = make(DIAMOND);
    const r = run(c, 'a', 'failed');
    expect(statuses(c)).toEqual({ a: 'failed', b: 'skipped', c: 'skipped', d: 'skipped' });
    expect(r.ok && r.changes.find((ch) => ch.taskId === 'b')?.reason).toContain('upstream a failed');
    expect(c.status).toBe('failed');
  });

  it('runs completion and failure handlers; a handled failure does not fail the constellation', () => {
    const c = make(`name: h
tasks:
  work: { run: "false" }
  on_fail: { run: echo compensate, needs: { work: failure } }
  on_ok: { run: echo next, needs: [work] }
  always: { run: echo cleanup, needs: { work: completion } }
`);
    run(c, 'work', 'failed');
    expect(statuses(c)).toEqual({ work: 'failed', on_fail: 'ready', on_ok: 'skipped', always: 'ready' });
    run(c, 'on_fail', 'succeeded');
    run(c, 'always', 'succeeded');
    expect(c.status).toBe('succeeded');
  });

  it('skips failure handlers when the upstream succeeds; skipped satisfies completion', () => {
    const c = make(`name: h
tasks:
  work: { run: "true" }
  on_fail: { run: echo compensate, needs: { work: failure } }
  after_handler: { run: echo x, needs: { on_fail: completion } }
  strict: { run: echo y, needs: [on_fail] }
`);
    run(c, 'work', 'succeeded');
    expect(statuses(c)).toEqual({ work: 'succeeded', on_fail: 'skipped', after_handler: 'ready', strict: 'skipped' });
  });

  it('evaluates conditions once every upstream is terminal', () => {
    const c = make(`name: cond
tasks:
  test: { run: echo 0.95, outputs: { score: stdout } }
  lint: { run: "true" }
  deploy:
    run: echo deploy
    needs:
      test: { if: "tasks.test.outputs.score >= 0.9 && tasks.lint.status == 'succeeded'" }
      lint: completion
  rollback:
    run: echo rollback
    needs: { test: { if: "tasks.test.outputs.score < 0.9" } }
`);
    run(c, 'test', 'succeeded', { score: '0.95' });
    expect(statuses(c)).toMatchObject({ deploy: 'pending', rollback: 'skipped' });
    expect(c.tasks.rollback!.status).toBe('skipped');
    run(c, 'lint', 'succeeded');
    expect(statuses(c)).toMatchObject({ deploy: 'ready' });
  });

  it('false condition on a failed upstream skips; condition on status can run a handler', () => {
    const c = make(`name: cond
tasks:
  t: { run: "false" }
  notify: { run: echo, needs: { t: { if: "tasks.t.status == 'failed'" } } }
`);
    run(c, 't', 'failed');
    expect(c.tasks.notify!.status).toBe('ready');
  });

  it('retries with exponential backoff and jitter, then fails', () => {
    const c = make(`name: r
tasks:
  flaky: { run: "false", retries: { max: 2, backoff: 1s, maxBackoff: 1500ms, multiplier: 3 } }
`);
    let a = assignTask(c, 'flaky', { deviceId: 'd', now: 10_000 });
    expect(a.ok && a.attempt).toBe(1);
    let r = completeTask(c, 'flaky', 1, { outcome: 'failed' }, 10_100, { jitter: 0 });
    expect(r.ok && r.changes[0]).toMatchObject({ from: 'assigned', to: 'ready' });
    expect(c.tasks.flaky!.notBefore).toBe(11_100);
    expect(assignTask(c, 'flaky', { deviceId: 'd', now: 11_000 })).toMatchObject({ ok: false, code: 'NOT_YET' });
    a = assignTask(c, 'flaky', { deviceId: 'd', now: 11_100 });
    expect(a.ok && a.attempt).toBe(2);
    expect(c.tasks.flaky!.notBefore).toBeUndefined();
    r = completeTask(c, 'flaky', 2, { outcome: 'timed_out' }, 12_000, { jitter: 0.5 });
    // 1000 * 3 = 3000, capped at 1500, jitter 0.5 removes a quarter.
    expect(c.tasks.flaky!.notBefore).toBe(12_000 + 1125);
    assignTask(c, 'flaky', { deviceId: 'd', now: 20_000 });
    r = completeTask(c, 'flaky', 3, { outcome: 'failed', error: 'boom' }, 20_001);
    expect(c.tasks.flaky!.status).toBe('failed');
    expect(r.ok && r.changes[0]?.reason).toBe('boom');
    expect(c.status).toBe('failed');
    expect(checkInvariants(c)).toEqual([]);
  });

  it('requeues lost attempts without using a retry', () => {
    const c = make('name: l\ntasks:\n  t: { run: "true" }\n');
    assignTask(c, 't', { deviceId: 'd1', now: 1 });
    completeTask(c, 't', 1, { outcome: 'lost' }, 2);
    expect(c.tasks.t!.status).toBe('ready');
    assignTask(c, 't', { deviceId: 'd2', now: 3 });
    expect(c.tasks.t!.attempts.map((x) => [x.deviceId, x.outcome])).toEqual([
      ['d1', 'lost'],
      ['d2', undefined],
    ]);
  });

  it('rejects stale results by attempt number and never changes terminal tasks', () => {
    const c = make('name: s\ntasks:\n  t: { run: "true", retries: 1 }\n');
    assignTask(c, 't', { deviceId: 'd', now: 1 });
    completeTask(c, 't', 1, { outcome: 'failed' }, 2);
    assignTask(c, 't', { deviceId: 'd', now: 5000 });
    const stale = completeTask(c, 't', 1, { outcome: 'succeeded' }, 5001);
    expect(stale).toMatchObject({ ok: false, code: 'STALE_ATTEMPT', stale: true });
    expect(c.tasks.t!.status).toBe('assigned');
    expect(completeTask(c, 't', 2, { outcome: 'succeeded' }, 5002).ok).toBe(true);
    const before = structuredClone(c);
    expect(completeTask(c, 't', 2, { outcome: 'failed' }, 5003)).toMatchObject({ ok: false, stale: true });
    expect(startTask(c, 't', 2, 5004)).toMatchObject({ ok: false, stale: true });
    expect(assignTask(c, 't', { deviceId: 'd', now: 5005 })).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    expect(c).toEqual(before);
    expect(completeTask(c, 'nope', 1, { outcome: 'failed' }, 1)).toMatchObject({ ok: false, code: 'UNKNOWN_TASK' });
  });

  it('backoffDelay grows, caps and applies jitter', () => {
    const p = { max: 5, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(p, 3, 0.999)).toBe(200);
    expect(backoffDelay({ ...p, multiplier: 1e308 }, 50)).toBe(1000);
  });
});

describe('constellation transitions', () => {
  it('cancel cancels every live task and reports running ones for a Cancel', () => {
    const c = make(DIAMOND);
    assignTask(c, 'a', { deviceId: 'devX', now: 1 });
    startTask(c, 'a', 1, 2);
    const r = cancelConstellation(c, 3);
    expect(r.ok && r.status).toEqual({ from: 'running', to: 'cancelled' });
    expect(Object.values(statuses(c))).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(r.ok && r.changes.find((ch) => ch.taskId === 'a')?.cancelAttempt).toEqual({ attempt: 1, deviceId: 'devX' });
    expect(c.tasks.a!.attempts[0]!.outcome).toBe('cancelled');
    expect(completeTask(c, 'a', 1, { outcome: 'succeeded' }, 4)).toMatchObject({ ok: false, stale: true });
    expect(checkInvariants(c)).toEqual([]);
  });

  it('pause stops assignment; resume allows it again', () => {
    const c = make(DIAMOND);
    expect(pauseConstellation(c, 1).ok).toBe(true);
    expect(assignTask(c, 'a', { deviceId: 'd', now: 2 })).toMatchObject({ ok: false, code: 'INVALID_TRANSITION' });
    expect(pauseConstellation(c, 1).ok).toBe(false);
    expect(resumeConstellation(c, 3).ok).toBe(true);
    expect(assignTask(c, 'a', { deviceId: 'd', now: 4 }).ok).toBe(true);
  });
});
