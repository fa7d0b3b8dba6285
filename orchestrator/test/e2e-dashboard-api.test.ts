// The read endpoints the dashboard leans on, against a real orchestrator and
// agent: GET /v1/whoami (role per token), GET .../tasks/:task (resolved
// inputs), and the device view's capabilities and running tasks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../src/api/live-events.js';
import { ApiClient } from '../src/cli/api-client.js';
import {
  type AgentHandle,
  api,
  type OrchestratorHandle,
  startAgent,
  startOrchestrator,
  waitFor,
} from '../../scripts/testing/stack.js';

async function call(base: string, path: string, token?: string, method = 'GET', body?: unknown) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('GET /v1/whoami with auth on', () => {
  let orch: OrchestratorHandle;
  beforeAll(async () => {
    orch = await startOrchestrator({ auth: true });
  });
  afterAll(async () => {
    await orch?.kill('SIGTERM');
  });

  it('answers each token its role, and 401 without one', async () => {
    const admin = readFileSync(join(orch.dataDir, 'admin-token'), 'utf8').trim();
    const mint = async (role: string) =>
      (await call(orch.url, '/v1/admin/api-tokens', admin, 'POST', { role })).json.token as string;
    const viewer = await mint('viewer');
    const operator = await mint('operator');
    expect((await call(orch.url, '/v1/whoami', viewer)).json).toMatchObject({ role: 'viewer', authRequired: true });
    expect((await call(orch.url, '/v1/whoami', operator)).json).toMatchObject({ role: 'operator', authRequired: true });
    expect((await call(orch.url, '/v1/whoami', admin)).json).toMatchObject({ role: 'admin', authRequired: true });
    const anonymous = await call(orch.url, '/v1/whoami');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe('UNAUTHENTICATED');
  });
});

describe('task and device views with auth off', () => {
  let orch: OrchestratorHandle;
  let agent: AgentHandle;
  beforeAll(async () => {
    orch = await startOrchestrator();
    agent = startAgent({ server: orch.aipUrl, name: 'views-agent', labels: ['views'] });
  });
  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await orch?.kill('SIGTERM');
  });

  it('whoami says admin and that no token is needed', async () => {
    expect((await call(orch.url, '/v1/whoami')).json).toEqual({ role: 'admin', principal: 'local', authRequired: false });
  });

  it('streams a device event when an attempt starts or stops running on it', async () => {
    const client = new ApiClient(orch.url);
    const abort = new AbortController();
    const devices: Array<Extract<LiveEvent, { type: 'device' }>['data']> = [];
    const reading = (async () => {
      try {
        for await (const ev of client.events(undefined, abort.signal)) if (ev.type === 'device') devices.push(ev.data);
      } catch {
        // aborted
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    const c = await client.submit({ name: 'device-events', tasks: { blip: { run: 'sleep 0.3' } } });
    await waitFor(
      () => devices.some((d) => d.runningTasks?.some((t) => t.constellationId === c.id && t.taskId === 'blip')),
      'a device event listing blip',
    );
    await waitFor(() => {
      const last = devices.filter((d) => d.name === 'views-agent').at(-1);
      return last && last.runningTasks?.length === 0 && last.running === 0;
    }, 'a device event with blip gone');
    abort.abort();
    await reading;
  });

  it('shows resolved inputs once a task is ready, and the device running it', async () => {
    const graph = {
      name: 'resolved-inputs',
      inputs: { greeting: 'hi' },
      tasks: {
        words: { run: 'echo alpha beta', outputs: { list: 'stdout' } },
        hold: {
          needs: ['words'],
          env: { LIST: '${{ tasks.words.outputs.list }}' },
          inputs: { say: '${{ inputs.greeting }} ${{ tasks.words.outputs.list }}' },
          run: 'sleep 30',
        },
        later: { needs: ['hold'], run: 'echo later' },
      },
    };
    const c = await api<{ id: string }>(orch.url, 'POST', '/v1/constellations', graph);
    const task = (id: string) => api<Record<string, unknown>>(orch.url, 'GET', `/v1/constellations/${c.id}/tasks/${id}`);

    const running = await waitFor(async () => {
      const t = await task('hold');
      return t.status === 'running' ? t : undefined;
    }, 'hold to run');
    expect(running.resolved).toEqual({
      executor: expect.objectContaining({ kind: 'shell', command: 'sleep 30', env: { LIST: 'alpha beta' } }),
      inputs: { say: 'hi alpha beta' },
    });
    expect((running.spec as { inputs: Record<string, string> }).inputs.say).toContain('${{');
    // Still pending: an upstream may change what it would read, so nothing resolved yet.
    const pending = await task('later');
    expect(pending.status).toBe('pending');
    expect(pending.resolved).toBeUndefined();

    const { items } = await api<{ items: Array<Record<string, unknown>> }>(orch.url, 'GET', '/v1/devices');
    const device = items.find((d) => d.name === 'views-agent');
    expect(device?.runningTasks).toEqual([{ constellationId: c.id, taskId: 'hold', attempt: 1 }]);
    const caps = device?.capabilities as Record<string, unknown>;
    expect(caps.cpus).toBeGreaterThan(0);
    expect(caps.memoryMb).toBeGreaterThan(0);
    expect(caps.executors).toContain('shell');
    expect(caps.labels).toContain('views');

    const missing = await call(orch.url, `/v1/constellations/${c.id}/tasks/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json.code).toBe('NOT_FOUND');
    await api(orch.url, 'POST', `/v1/constellations/${c.id}/cancel`);
  });
});
