// Browser test of the replan proposals panel against a REAL orchestrator and
// agents: a task fails for good on one device, its proposal appears live on
// the constellation page, Approve applies it (the task reruns on the other
// device and the run succeeds); on another run Reject leaves it failed.
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  api,
  type OrchestratorHandle,
  startAgent,
  startOrchestrator,
  waitFor,
} from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

const graph = (name: string) => ({
  name,
  replan: 'propose',
  tasks: {
    build: { target: { device: 'box-a', labels: ['cpu'] }, run: 'test "$ROLE" != broken && echo built' },
    ship: { needs: ['build'], run: 'echo shipped' },
  },
});

describe('replan proposals on the constellation page', () => {
  let orch: OrchestratorHandle | undefined;
  const agents: AgentHandle[] = [];
  let browser: Browser | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requirePrerequisites();
    const dashboardDir = buildDashboard();
    orch = await startOrchestrator({ args: ['--dashboard-dir', dashboardDir] });
    // The build fails on box-a (ROLE=broken) and works on box-b.
    agents.push(startAgent({ server: orch.aipUrl, name: 'box-a', labels: ['cpu'], env: { ROLE: 'broken' } }));
    agents.push(startAgent({ server: orch.aipUrl, name: 'box-b', labels: ['cpu'], env: { ROLE: 'fine' } }));
    await waitFor(async () => {
      const { items } = await api<{ items: Array<{ status: string }> }>(orch!.url, 'GET', '/v1/devices');
      return items.filter((d) => d.status === 'online').length === 2;
    }, 'two agents online');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    await orch?.kill('SIGTERM');
  });

  async function open(id: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${orch!.url}/#/c/${id}`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
    return page;
  }

  it('shows the proposal live; Approve reruns the task elsewhere and the run succeeds', async () => {
    const { id } = await api<{ id: string }>(orch!.url, 'POST', '/v1/constellations', graph('approve-me'));
    const page = await open(id);
    const pending = page.locator('[data-testid^="proposal-p-"][data-status="pending"]');
    await pending.waitFor();
    expect(await pending.textContent()).toMatch(/retry build on box-b: it failed on box-a/);
    expect(await page.locator('[data-testid="constellation-status"]').getAttribute('data-status')).toBe('failed');
    await pending.locator('[data-testid="proposal-approve"]').click();
    await page.locator('[data-testid^="proposal-p-"][data-status="applied"]').waitFor();
    await page.locator('[data-testid="constellation-status"][data-status="succeeded"]').waitFor();
    const c = await api<{ tasks: Record<string, { status: string }> }>(orch!.url, 'GET', `/v1/constellations/${id}`);
    expect(c.tasks.ship!.status).toBe('succeeded');
    await page.close();
  });

  it('Reject leaves the run failed and the proposal rejected', async () => {
    const { id } = await api<{ id: string }>(orch!.url, 'POST', '/v1/constellations', graph('reject-me'));
    const page = await open(id);
    const pending = page.locator('[data-testid^="proposal-p-"][data-status="pending"]');
    await pending.waitFor();
    await pending.locator('[data-testid="proposal-reject"]').click();
    await page.locator('[data-testid^="proposal-p-"][data-status="rejected"]').waitFor();
    expect(await page.locator('[data-testid="proposal-approve"]').count()).toBe(0);
    const [p] = (
      await api<{ items: Array<{ status: string; decidedBy: string }> }>(
        orch!.url,
        'GET',
        `/v1/constellations/${id}/proposals`,
      )
    ).items;
    expect(p).toMatchObject({ status: 'rejected', decidedBy: 'local' });
    expect((await api<{ status: string }>(orch!.url, 'GET', `/v1/constellations/${id}`)).status).toBe('failed');
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
