// Nothing lost, nothing twice: the orchestrator is SIGKILLed in the middle of
// a run and restarted on the same journal; an agent is SIGKILLed mid-task.
// Tasks append to a file, so the file counts executions.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentHandle, api, type OrchestratorHandle, startAgent, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

type Task = { status: string; attempts: Array<{ deviceId: string; outcome?: string }> };
type C = { id: string; status: string; tasks: Record<string, Task> };

const running: Array<OrchestratorHandle | AgentHandle> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
});

const online = (url: string, names: string[]) =>
  waitFor(async () => {
    const { items } = await api<{ items: Array<{ name: string; status: string }> }>(url, 'GET', '/v1/devices');
    return names.every((n) => items.some((d) => d.name === n && d.status === 'online'));
  }, `${names.join(', ')} online`);

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('recovery', () => {
  it('resumes after the orchestrator is SIGKILLed mid-run: every task runs once, none is lost', async () => {
    const work = mkdtempSync(join(tmpdir(), 'orrery-recovery-'));
    const log = join(work, 'executions');
    // Heartbeats slow enough that a loaded machine's restart never outlasts a lease: a device
    // declared lost would rightly rerun its tasks (at-least-once), which is not what this checks.
    let orch = await startOrchestrator({ heartbeatMs: 1000 });
    running.push(orch);
    const port = new URL(orch.url).port;
    const agents = ['r1', 'r2'].map((name) => startAgent({ server: orch.aipUrl, name, slots: 2 }));
    running.push(...agents);
    await online(orch.url, ['r1', 'r2']);

    // 6 layers of 4 tasks; each layer needs the whole previous one.
    const tasks: Record<string, unknown> = {};
    for (let layer = 0; layer < 6; layer++) {
      for (let i = 0; i < 4; i++) {
        const id = `t${layer}_${i}`;
        tasks[id] = {
          run: `sleep 0.15; echo ${id} >> ${log}`,
          ...(layer > 0 ? { needs: [0, 1, 2, 3].map((j) => `t${layer - 1}_${j}`) } : {}),
        };
      }
    }
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', { name: 'crash-me', tasks });
    await waitFor(() => lines(log).length >= 6, 'some tasks to finish');

    await orch.kill('SIGKILL');
    orch = await startOrchestrator({ dataDir: orch.dataDir, port: Number(port), heartbeatMs: 1000 });
    running.push(orch);

    const done = await waitFor(async () => {
      const s = await api<C>(orch.url, 'GET', `/v1/constellations/${c.id}`);
      return s.status === 'succeeded' || s.status === 'failed' ? s : undefined;
    }, 'the constellation to finish after the restart', 60_000);
    expect(done.status).toBe('succeeded');
    const ran = lines(log);
    expect(ran.length).toBe(24);
    expect(new Set(ran).size).toBe(24);
  });

  it('reassigns the tasks of an agent that is SIGKILLed, within a few heartbeats', async () => {
    const work = mkdtempSync(join(tmpdir(), 'orrery-agent-loss-'));
    const marker = join(work, 'started');
    const orch = await startOrchestrator({ heartbeatMs: 200 });
    running.push(orch);
    const doomed = startAgent({ server: orch.aipUrl, name: 'doomed', labels: ['x'], slots: 1 });
    running.push(doomed);
    await online(orch.url, ['doomed']);

    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'survive',
      tasks: { job: { target: { labels: ['x'] }, run: `echo start >> ${marker}; sleep 1; echo done` } },
    });
    await waitFor(() => lines(marker).length === 1, 'the first attempt to start');
    await doomed.kill('SIGKILL');
    const spare = startAgent({ server: orch.aipUrl, name: 'spare', labels: ['x'], slots: 1 });
    running.push(spare);

    const done = await waitFor(async () => {
      const s = await api<C>(orch.url, 'GET', `/v1/constellations/${c.id}`);
      return s.status === 'succeeded' ? s : undefined;
    }, 'the job to finish on the spare device', 30_000);
    const attempts = done.tasks.job?.attempts ?? [];
    expect(attempts[0]?.deviceId).toBe('dev-doomed');
    expect(attempts[0]?.outcome).toBe('lost');
    expect(attempts.at(-1)?.deviceId).toBe('dev-spare');
    expect(attempts.at(-1)?.outcome).toBe('succeeded');
    const { items } = await api<{ items: Array<{ name: string; status: string }> }>(orch.url, 'GET', '/v1/devices');
    expect(items.find((d) => d.name === 'doomed')?.status).toBe('lost');
  });
});
