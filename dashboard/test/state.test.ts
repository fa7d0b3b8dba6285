import { describe, expect, it } from 'vitest';
import type { Constellation, TaskState } from '../src/api/types.js';
import { adoptNewer, applyTaskEvent, applyTaskEvents, mergeBufferedEvents } from '../src/state/use-constellation.js';
import { parseRoute, routeHash } from '../src/state/use-route.js';
import { describeOperation } from '../src/components/history-view.js';
import { summaryOf } from '../src/state/summary.js';
import { upsertSummaries } from '../src/state/use-constellation-list.js';

function task(id: string): TaskState {
  return {
    spec: {
      id,
      name: id,
      target: {},
      executor: { kind: 'shell', command: 'true' },
      inputs: {},
      outputs: {},
      priority: 0,
      retry: {
        max: 0,
        initialBackoffMs: 1000,
        maxBackoffMs: 1000,
        multiplier: 2,
      },
    },
    status: 'pending',
    attempts: [],
    outputs: {},
  };
}

const c: Constellation = {
  id: 'c1',
  name: 'demo',
  revision: 3,
  status: 'running',
  owner: 'local',
  inputs: {},
  tasks: { a: task('a'), b: task('b') },
  dependencies: [{ from: 'a', to: 'b', kind: 'success' }],
  createdAt: 1,
  updatedAt: 2,
};

describe('applyTaskEvent', () => {
  it('updates one task and keeps the structure (so no re-layout)', () => {
    const attempts = [{ number: 1, deviceId: 'd1', assignedAt: 5, startedAt: 6 }];
    const next = applyTaskEvent(c, {
      constellationId: 'c1',
      taskId: 'a',
      status: 'running',
      attempts,
      outputs: {},
    });
    expect(next.tasks.a?.status).toBe('running');
    expect(next.tasks.a?.attempts).toEqual(attempts);
    expect(next.tasks.b).toBe(c.tasks.b);
    expect(next.dependencies).toBe(c.dependencies);
    expect(c.tasks.a?.status).toBe('pending');
  });

  it('ignores a task it does not know (an edit event refetches)', () => {
    expect(
      applyTaskEvent(c, {
        constellationId: 'c1',
        taskId: 'zz',
        status: 'ready',
        attempts: [],
        outputs: {},
      }),
    ).toBe(c);
  });
});

describe('applyTaskEvents', () => {
  it('applies a burst in order with one new task map and no new structure', () => {
    const ev = (taskId: string, status: 'running' | 'succeeded') => ({
      constellationId: 'c1',
      taskId,
      status,
      attempts: [],
      outputs: {},
    });
    const next = applyTaskEvents(c, [
      ev('a', 'running'),
      ev('zz', 'running'),
      ev('a', 'succeeded'),
      ev('b', 'running'),
    ]);
    expect(next.tasks.a?.status).toBe('succeeded');
    expect(next.tasks.b?.status).toBe('running');
    expect(next.tasks.zz).toBeUndefined();
    expect(next.dependencies).toBe(c.dependencies);
    expect(applyTaskEvents(c, [])).toBe(c);
  });

  it('keeps the artifacts a succeeded task reported and drops them when a retry starts it again', () => {
    const ev = (status: 'running' | 'succeeded', artifacts?: Record<string, { digest: string; size: number }>) => ({
      constellationId: 'c1',
      taskId: 'a',
      status,
      attempts: [],
      outputs: {},
      ...(artifacts ? { artifacts } : {}),
    });
    const bundle = { digest: 'ab'.repeat(32), size: 9 };
    const done = applyTaskEvents(c, [ev('succeeded', { bundle })]);
    expect(done.tasks.a?.artifacts).toEqual({ bundle });
    expect(applyTaskEvents(done, [ev('succeeded')]).tasks.a?.artifacts).toEqual({ bundle });
    expect(applyTaskEvents(done, [ev('running')]).tasks.a?.artifacts).toBeUndefined();
  });
});

describe('merging out-of-order updates', () => {
  const running = [{ number: 1, deviceId: 'd1', assignedAt: 5, startedAt: 6 }];
  const done = [{ ...running[0]!, endedAt: 9, outcome: 'succeeded' as const, exitCode: 0 }];

  it('applies a buffered event only when it is not older than the fetched state', () => {
    const fetched = applyTaskEvent(c, {
      constellationId: 'c1',
      taskId: 'a',
      status: 'succeeded',
      attempts: done,
      outputs: {},
    });
    const merged = mergeBufferedEvents(fetched, [
      { constellationId: 'c1', taskId: 'a', status: 'running', attempts: running, outputs: {} },
      { constellationId: 'c1', taskId: 'b', status: 'ready', attempts: [], outputs: {} },
    ]);
    expect(merged.tasks.a?.status).toBe('succeeded');
    expect(merged.tasks.b?.status).toBe('ready');
  });

  it('keeps task states that overtook a command answer of the same revision', () => {
    const live = applyTaskEvent(c, {
      constellationId: 'c1',
      taskId: 'a',
      status: 'succeeded',
      attempts: done,
      outputs: {},
    });
    const answer = { ...c, tasks: { ...c.tasks, b: { ...c.tasks.b!, status: 'cancelled' as const } } };
    const adopted = adoptNewer(live, answer);
    expect(adopted.tasks.a?.status).toBe('succeeded');
    expect(adopted.tasks.b?.status).toBe('cancelled');
  });

  it('takes a newer revision whole (a retry may move a task back to ready)', () => {
    const live = applyTaskEvent(c, {
      constellationId: 'c1',
      taskId: 'a',
      status: 'failed',
      attempts: done,
      outputs: {},
    });
    const retried = {
      ...c,
      revision: 4,
      tasks: { ...c.tasks, a: { ...c.tasks.a!, status: 'ready' as const, attempts: done } },
    };
    expect(adoptNewer(live, retried).tasks.a?.status).toBe('ready');
    expect(adoptNewer(retried, live)).toBe(retried);
  });

  it('keeps a task that live events moved to a later attempt than a newer answer shows', () => {
    const retried = {
      ...c,
      revision: 4,
      tasks: { ...c.tasks, a: { ...c.tasks.a!, status: 'ready' as const, attempts: done } },
    };
    const second = [...done, { ...done[0]!, number: 2 }];
    const live = applyTaskEvent(c, { constellationId: 'c1', taskId: 'a', status: 'failed', attempts: second, outputs: {} });
    const adopted = adoptNewer(live, retried);
    expect(adopted.revision).toBe(4);
    expect(adopted.tasks.a?.status).toBe('failed');
    expect(adopted.tasks.a?.attempts).toHaveLength(2);
  });
});

describe('summaryOf', () => {
  it('counts tasks by status', () => {
    expect(summaryOf(c).counts).toEqual({ pending: 2 });
  });
});

describe('routes', () => {
  it('round-trips every route through the hash', () => {
    const routes = [
      { view: 'home' as const },
      { view: 'devices' as const },
      { view: 'submit' as const },
      { view: 'constellation' as const, id: 'c 1/x', tab: 'graph' as const },
      {
        view: 'constellation' as const,
        id: 'c1',
        tab: 'timeline' as const,
        taskId: 'build/one',
      },
    ];
    for (const r of routes) expect(parseRoute(routeHash(r))).toEqual(r);
  });
});

describe('describeOperation', () => {
  it('names the operation and what it touches', () => {
    expect(describeOperation({ op: 'cancel_task', taskId: 'build' })).toBe('cancel_task build');
    expect(
      describeOperation({
        op: 'add_task',
        task: { id: 'c' },
        needs: [{ from: 'b', kind: 'completion' }, { from: 'a' }],
      }),
    ).toBe('add_task c (needs b:completion, a)');
    expect(describeOperation({ op: 'add_dependency', dependency: { from: 'a', to: 'b', kind: 'failure' } })).toBe(
      'add_dependency a → b (failure)',
    );
    expect(describeOperation({ op: 'remove_dependency', from: 'a', to: 'b' })).toBe('remove_dependency a → b');
  });
});

describe('upsertSummaries', () => {
  const s = (id: string, createdAt: number, revision = 1, status: 'running' | 'succeeded' = 'running') => ({
    id,
    name: id,
    status,
    revision,
    owner: 'local',
    createdAt,
    updatedAt: createdAt,
    counts: {},
  });

  it('keeps newest first, replaces by id, and never goes back in revision', () => {
    let list = upsertSummaries([], [s('old', 1), s('new', 2)]);
    expect(list.map((c) => c.id)).toEqual(['new', 'old']);
    list = upsertSummaries(list, [s('old', 1, 3, 'succeeded')]);
    expect(list.find((c) => c.id === 'old')?.status).toBe('succeeded');
    const stale = upsertSummaries(list, [s('old', 1, 2, 'running')]);
    expect(stale).toBe(list);
  });
});
