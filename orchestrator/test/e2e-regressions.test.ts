// Regressions found in review, each on real processes: a task cancelled and
// retried while its old attempt still held the slot; a task whose executor no
// connected device has; cancelling a finished constellation.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack, waitFor } from '../../scripts/testing/stack.js';

type Task = { status: string; waitingReason?: string; attempts: Array<{ outcome?: string }>; outputs: Record<string, string> };
type C = { id: string; status: string; revision: number; tasks: Record<string, Task> };

let stack: Stack;
const work = mkdtempSync(join(tmpdir(), 'orrery-regress-'));
beforeAll(async () => {
  stack = await startStack({ agents: [{ name: 'only-shell' }] });
});
afterAll(async () => {
  await stack?.stop();
});

const get = (id: string): Promise<C> => api<C>(stack.url, 'GET', `/v1/constellations/${id}`);

describe('regressions', () => {
  it('runs a task that was cancelled and retried in one batch while its attempt still ran', async () => {
    const marker = join(work, 'first-started');
    const c = await api<C>(stack.url, 'POST', '/v1/constellations', {
      name: 'cancel-retry',
      tasks: { job: { run: `if [ -f ${marker} ]; then echo second; else touch ${marker}; sleep 30; fi`, outputs: { said: 'stdout' } } },
    });
    await waitFor(() => existsSync(marker), 'the first attempt to start');
    const cur = await get(c.id);
    await api(stack.url, 'POST', `/v1/constellations/${c.id}/edits`, {
      revision: cur.revision,
      operations: [
        { op: 'cancel_task', taskId: 'job' },
        { op: 'retry_task', taskId: 'job' },
      ],
    });
    const done = await waitFor(async () => {
      const s = await get(c.id);
      return s.status === 'succeeded' ? s : undefined;
    }, 'the retried task to run', 30_000);
    expect(done.tasks.job?.attempts.map((a) => a.outcome)).toEqual(['cancelled', 'succeeded']);
    expect(done.tasks.job?.outputs.said).toBe('second');
  });

  it('keeps a task whose executor no device offers waiting with a reason (no assign/reject loop)', async () => {
    const c = await api<C>(stack.url, 'POST', '/v1/constellations', {
      name: 'needs-robot-arm',
      // A kind no agent has (every agent offers shell, http and mcp).
      tasks: { call: { executor: { kind: 'robot-arm', args: { joint: 1 } } } },
    });
    const why = await waitFor(async () => (await get(c.id)).tasks.call?.waitingReason, 'a waiting reason');
    expect(why).toMatch(/executor:robot-arm/);
    await new Promise((r) => setTimeout(r, 500));
    expect((await get(c.id)).tasks.call?.attempts).toHaveLength(0);
    await api(stack.url, 'POST', `/v1/constellations/${c.id}/cancel`, {});
  });

  it('refuses to cancel a constellation that already finished', async () => {
    const c = await api<C>(stack.url, 'POST', '/v1/constellations', { name: 'quick', tasks: { a: { run: 'true' } } });
    await waitFor(async () => (await get(c.id)).status === 'succeeded', 'it to finish');
    const res = await fetch(new URL(`/v1/constellations/${c.id}/cancel`, stack.url), { method: 'POST' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { code: string }).code).toBe('INVALID_TRANSITION');
    expect((await get(c.id)).status).toBe('succeeded');
  });
});
