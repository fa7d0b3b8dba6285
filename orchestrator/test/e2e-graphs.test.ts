// End to end: a real orchestrator and two real agents as processes on
// loopback run graphs over AIP. Covers parallel branches, data passing,
// failure/completion dependencies, retries, a timeout, a cancel, live edits
// and bad input.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack, waitFor } from '../../scripts/testing/stack.js';

type Task = { status: string; outputs: Record<string, string>; attempts: Array<{ deviceId: string; outcome?: string; exitCode?: number }> };
type C = { id: string; status: string; revision: number; tasks: Record<string, Task> };

let stack: Stack;
const work = mkdtempSync(join(tmpdir(), 'orrery-e2e-'));

beforeAll(async () => {
  stack = await startStack({
    agents: [
      { name: 'alpha', labels: ['cpu'], slots: 2 },
      { name: 'beta', labels: ['io'], slots: 2 },
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
});

const submit = (graph: unknown): Promise<C> => api<C>(stack.url, 'POST', '/v1/constellations', graph);
const get = (id: string): Promise<C> => api<C>(stack.url, 'GET', `/v1/constellations/${id}`);
const finished = (id: string, timeoutMs = 30_000): Promise<C> =>
  waitFor(async () => {
    const c = await get(id);
    return ['succeeded', 'failed', 'cancelled'].includes(c.status) ? c : undefined;
  }, `constellation ${id} to finish`, timeoutMs);

describe('graphs on real agents', () => {
  it('runs parallel branches on the devices their targets select and passes data downstream', async () => {
    const c = await submit({
      name: 'fan-out-fan-in',
      inputs: { greeting: 'hello' },
      tasks: {
        source: { run: 'echo ${{ inputs.greeting }}', outputs: { word: 'stdout' } },
        upper: { needs: ['source'], target: { labels: ['cpu'] }, run: "echo '${{ tasks.source.outputs.word }}' | tr a-z A-Z", outputs: { value: 'stdout' } },
        count: { needs: ['source'], target: { labels: ['io'] }, run: "printf '%s' '${{ tasks.source.outputs.word }}' | wc -c | tr -d ' '", outputs: { value: 'stdout' } },
        join: {
          needs: ['upper', 'count'],
          run: "echo '{\"summary\": \"${{ tasks.upper.outputs.value }}-${{ tasks.count.outputs.value }}\"}'",
          outputs: { summary: { json: 'summary' } },
        },
      },
    });
    const done = await finished(c.id);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.join?.outputs.summary).toBe('HELLO-5');
    expect(done.tasks.upper?.attempts[0]?.deviceId).toBe('dev-alpha');
    expect(done.tasks.count?.attempts[0]?.deviceId).toBe('dev-beta');
  });

  it('skips success dependents of a failed task and still runs completion and failure handlers', async () => {
    const c = await submit({
      name: 'failure-paths',
      tasks: {
        broken: { run: 'echo about to fail; exit 3' },
        after: { needs: ['broken'], run: 'echo should not run' },
        cleanup: { needs: { broken: 'completion' }, run: 'echo cleaned' , outputs: { out: 'stdout' } },
        compensate: { needs: { broken: 'failure' }, run: 'echo compensating' },
      },
    });
    const done = await finished(c.id);
    expect(done.tasks.broken?.status).toBe('failed');
    expect(done.tasks.broken?.attempts[0]?.exitCode).toBe(3);
    expect(done.tasks.after?.status).toBe('skipped');
    expect(done.tasks.cleanup?.status).toBe('succeeded');
    expect(done.tasks.cleanup?.outputs.out).toBe('cleaned');
    expect(done.tasks.compensate?.status).toBe('succeeded');
    const logs = await api<string>(stack.url, 'GET', `/v1/constellations/${c.id}/tasks/broken/logs`);
    expect(logs).toContain('about to fail');
  });

  it('retries a failing task with backoff until it succeeds, counting each execution', async () => {
    const counter = join(work, 'retry-count');
    const c = await submit({
      name: 'flaky',
      tasks: {
        flaky: {
          run: `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${counter}; [ $n -ge 3 ]`,
          retries: { max: 3, backoff: '50ms' },
        },
      },
    });
    const done = await finished(c.id);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.flaky?.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'succeeded']);
    expect(readFileSync(counter, 'utf8').trim()).toBe('3');
  });

  it('times out a task that runs too long', async () => {
    const c = await submit({ name: 'slow', tasks: { slow: { run: 'sleep 30', timeout: '500ms' } } });
    const done = await finished(c.id);
    expect(done.tasks.slow?.status).toBe('timed_out');
    expect(done.status).toBe('failed');
  });

  it('cancels a running constellation and kills the task process tree on the device', async () => {
    const pidFile = join(work, 'cancel.pid');
    const c = await submit({ name: 'cancel-me', tasks: { long: { run: `sh -c 'echo $$ > ${pidFile}; sleep 30' & wait` } } });
    const pid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0), 'the task to start');
    await api(stack.url, 'POST', `/v1/constellations/${c.id}/cancel`, {});
    const done = await finished(c.id);
    expect(done.status).toBe('cancelled');
    expect(done.tasks.long?.status).toBe('cancelled');
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 'the grandchild process to be killed', 10_000);
  });

  it('applies a live edit atomically and rejects one that would create a cycle', async () => {
    const gate = join(work, 'gate');
    const c = await submit({
      name: 'editable',
      tasks: {
        wait: { run: `while [ ! -f ${gate} ]; do sleep 0.05; done` },
        old: { needs: ['wait'], run: 'echo old' },
      },
    });
    await waitFor(async () => (await get(c.id)).tasks.wait?.status === 'running', 'wait to run');
    const before = await get(c.id);

    // A cycle: old -> wait would close wait -> old. Rejected, nothing changes.
    const cyc = await fetch(new URL(`/v1/constellations/${c.id}/edits`, stack.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        revision: before.revision,
        operations: [
          { op: 'add_task', task: { id: 'extra', name: 'extra', target: {}, executor: { kind: 'shell', command: 'echo x' }, inputs: {}, outputs: {}, priority: 0, retry: { max: 0, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2 } } },
          { op: 'add_dependency', dependency: { from: 'old', to: 'wait', kind: 'success' } },
        ],
      }),
    });
    expect(cyc.status).toBe(422);
    const problem = (await cyc.json()) as { code: string };
    expect(['EDIT_CYCLE', 'EDIT_TASK_STARTED']).toContain(problem.code);
    const unchanged = await get(c.id);
    expect(unchanged.revision).toBe(before.revision);
    expect(unchanged.tasks.extra).toBeUndefined();

    // A good batch: remove `old`, add `new` after `wait`.
    const edited = await api<C>(stack.url, 'POST', `/v1/constellations/${c.id}/edits`, {
      revision: before.revision,
      operations: [
        { op: 'remove_task', taskId: 'old' },
        {
          op: 'add_task',
          task: { id: 'new', name: 'new', target: {}, executor: { kind: 'shell', command: 'echo new' }, inputs: {}, outputs: { said: { from: 'stdout' } }, priority: 0, retry: { max: 0, initialBackoffMs: 100, maxBackoffMs: 1000, multiplier: 2 } },
          needs: [{ from: 'wait' }],
        },
      ],
    });
    expect(edited.revision).toBe(before.revision + 1);
    // A stale revision is refused.
    const stale = await fetch(new URL(`/v1/constellations/${c.id}/edits`, stack.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ revision: before.revision, operations: [{ op: 'skip_task', taskId: 'new' }] }),
    });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { code: string }).code).toBe('EDIT_REVISION_CONFLICT');

    const { writeFileSync } = await import('node:fs');
    writeFileSync(gate, '');
    const done = await finished(c.id);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.old).toBeUndefined();
    expect(done.tasks.new?.outputs.said).toBe('new');
  });

  it('survives a task that floods its output: bounded logs, other tasks unharmed', async () => {
    const c = await submit({
      name: 'flood',
      tasks: {
        flood: { run: "head -c 30000000 /dev/zero | tr '\\0' 'x'; echo; echo done-flooding" },
        calm: { run: 'sleep 0.2; echo calm', outputs: { said: 'stdout' } },
      },
    });
    const done = await finished(c.id, 60_000);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.calm?.outputs.said).toBe('calm');
    const logs = await api<string>(stack.url, 'GET', `/v1/constellations/${c.id}/tasks/flood/logs`);
    // The agent forwards at most 8 MiB and the store keeps at most 2 MiB per attempt.
    expect(logs.length).toBeLessThan(3 * 1024 * 1024);
    expect(logs).toMatch(/dropped|truncated/);
    expect((await api<{ status: string }>(stack.url, 'GET', '/healthz')).status).toBe('ok');
  });

  it('rejects bad graphs with stable codes and locations, storing nothing', async () => {
    const before = (await api<{ items: unknown[] }>(stack.url, 'GET', '/v1/constellations')).items.length;
    const post = async (body: unknown): Promise<{ status: number; problem: { code: string; errors?: Array<{ code: string; line?: number; path?: string }> } }> => {
      const res = await fetch(new URL('/v1/constellations', stack.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, problem: (await res.json()) as never };
    };
    const yamlError = await post({ source: 'name: x\ntasks:\n  a:\n    run: [unclosed\n', format: 'yaml' });
    expect(yamlError.status).toBe(422);
    expect(yamlError.problem.code).toBe('GRAPH_PARSE_ERROR');
    expect(yamlError.problem.errors?.[0]?.line).toBeGreaterThan(0);

    const cycle = await post({ name: 'c', tasks: { a: { run: 'true', needs: ['b'] }, b: { run: 'true', needs: ['a'] } } });
    expect(cycle.problem.code).toBe('GRAPH_CYCLE');

    const dangling = await post({ name: 'd', tasks: { a: { run: 'true', needs: ['ghost'] } } });
    expect(dangling.problem.code).toBe('GRAPH_DANGLING_DEPENDENCY');

    const unknownField = await post({ source: 'name: u\ntasks:\n  a:\n    run: "true"\n    colour: red\n' });
    expect(unknownField.problem.code).toBe('GRAPH_SCHEMA');
    expect(unknownField.problem.errors?.[0]?.line).toBe(5);

    const badRef = await post({ name: 'r', tasks: { a: { run: 'echo ${{ tasks.b.outputs.nope }}' }, b: { run: 'true' } } });
    expect(badRef.problem.code).toBe('GRAPH_UNKNOWN_REFERENCE');

    const garbage = await fetch(new URL('/v1/constellations', stack.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { code: string }).code).toBe('INVALID_JSON');

    const after = (await api<{ items: unknown[] }>(stack.url, 'GET', '/v1/constellations')).items.length;
    expect(after).toBe(before);
    const health = await api<{ status: string }>(stack.url, 'GET', '/healthz');
    expect(health.status).toBe('ok');
  });
});
