// Placement on real agents: visible waiting reasons, a task that starts as
// soon as a matching device connects, exact slot limits, drain, pause and
// resume, and the placement explanation of every attempt.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHandle, api, type OrchestratorHandle, startAgent, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

type Task = { status: string; waitingReason?: string; attempts: Array<{ deviceId: string; placement?: string }> };
type C = { id: string; status: string; tasks: Record<string, Task> };

let orch: OrchestratorHandle;
const agents: AgentHandle[] = [];
const work = mkdtempSync(join(tmpdir(), 'orrery-sched-'));

beforeAll(async () => {
  orch = await startOrchestrator();
  agents.push(startAgent({ server: orch.aipUrl, name: 'pair', labels: ['pair'], slots: 2 }));
  await waitFor(async () => (await api<{ items: Array<{ status: string }> }>(orch.url, 'GET', '/v1/devices')).items.some((d) => d.status === 'online'), 'pair online');
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await orch?.kill('SIGKILL');
});

const get = (id: string): Promise<C> => api<C>(orch.url, 'GET', `/v1/constellations/${id}`);
const finished = (id: string): Promise<C> =>
  waitFor(async () => {
    const c = await get(id);
    return ['succeeded', 'failed', 'cancelled'].includes(c.status) ? c : undefined;
  }, `${id} to finish`, 30_000);

describe('scheduling on real agents', () => {
  it('never runs more tasks on a device than its slots, and explains each placement', async () => {
    const dir = join(work, 'running');
    mkdirSync(dir);
    const counts = join(work, 'counts');
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i < 6; i++) {
      tasks[`t${i}`] = { target: { labels: ['pair'] }, run: `touch ${dir}/t${i}; ls ${dir} | wc -l >> ${counts}; sleep 0.3; rm ${dir}/t${i}` };
    }
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', { name: 'slots', tasks });
    const done = await finished(c.id);
    expect(done.status).toBe('succeeded');
    const seen = readFileSync(counts, 'utf8').split('\n').filter(Boolean).map(Number);
    expect(seen).toHaveLength(6);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(done.tasks.t0?.attempts[0]?.placement).toMatch(/candidates/);
  });

  it('shows why a task waits, and starts it when a matching device connects', async () => {
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', { name: 'needs-gpu', tasks: { train: { target: { labels: ['gpu'] }, run: 'echo trained' } } });
    const waiting = await waitFor(async () => (await get(c.id)).tasks.train?.waitingReason, 'a waiting reason');
    expect(waiting).toMatch(/gpu/);
    agents.push(startAgent({ server: orch.aipUrl, name: 'gpu-box', labels: ['gpu'] }));
    const done = await finished(c.id);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.train?.attempts[0]?.deviceId).toBe('dev-gpu-box');
  });

  it('drains a device: running work finishes, new work waits', async () => {
    const gate = join(work, 'gate');
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'drain',
      tasks: {
        running: { target: { labels: ['pair'] }, run: `while [ ! -f ${gate} ]; do sleep 0.05; done` },
        later: { needs: ['running'], target: { labels: ['pair'] }, run: 'echo later' },
      },
    });
    await waitFor(async () => (await get(c.id)).tasks.running?.status === 'running', 'the first task to run');
    const drained = await api<{ status: string }>(orch.url, 'POST', '/v1/devices/pair/drain', {});
    expect(drained.status).toBe('draining');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(gate, '');
    await waitFor(async () => (await get(c.id)).tasks.running?.status === 'succeeded', 'the running task to finish');
    const later = await waitFor(async () => (await get(c.id)).tasks.later?.waitingReason, 'the next task to wait');
    expect(later).toMatch(/pair|no online device|draining/);
    expect((await get(c.id)).tasks.later?.status).toBe('ready');
    await api(orch.url, 'POST', `/v1/constellations/${c.id}/cancel`, {});
  });

  it('pauses and resumes a constellation', async () => {
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'pausable',
      tasks: { first: { target: { labels: ['gpu'] }, run: 'sleep 0.3' }, second: { needs: ['first'], target: { labels: ['gpu'] }, run: 'echo second' } },
    });
    const paused = await api<C>(orch.url, 'POST', `/v1/constellations/${c.id}/pause`, {});
    expect(paused.status).toBe('paused');
    // Work already on a device finishes; nothing new is dispatched while paused.
    await waitFor(async () => ['succeeded', 'ready'].includes((await get(c.id)).tasks.first?.status ?? ''), 'first to settle');
    await new Promise((r) => setTimeout(r, 500));
    const during = await get(c.id);
    const waiting = during.tasks.first?.status === 'succeeded' ? during.tasks.second : during.tasks.first;
    expect(waiting?.status).toBe('ready');
    expect(waiting?.attempts).toHaveLength(0);
    expect(waiting?.waitingReason).toBe('constellation is paused');
    const resumed = await api<C>(orch.url, 'POST', `/v1/constellations/${c.id}/resume`, {});
    expect(['running', 'succeeded']).toContain(resumed.status);
    const done = await finished(c.id);
    expect(done.status).toBe('succeeded');
  });
});
