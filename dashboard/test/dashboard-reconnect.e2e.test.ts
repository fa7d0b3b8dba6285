// Browser test of the live connection: when the orchestrator dies the page
// says "reconnecting…", and when it is back (same port, same journal) the
// page goes live again and refetches what it shows, without a reload.
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type OrchestratorHandle, startOrchestrator } from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

describe('dashboard across an orchestrator restart', () => {
  let server: OrchestratorHandle | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let dashboardDir = '';

  beforeAll(async () => {
    requirePrerequisites();
    dashboardDir = buildDashboard();
    server = await startOrchestrator({ args: ['--dashboard-dir', dashboardDir] });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1200, height: 700 } });
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill('SIGTERM');
  });

  it('shows reconnecting while the server is down and catches up after', async () => {
    const first = server!;
    await api(first.url, 'POST', '/v1/constellations', {
      source: 'name: before-crash\ntasks:\n  a:\n    run: echo a\n',
    });
    await page.goto(first.url);
    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
    await page.waitForSelector('[data-testid="constellation-list"] :text("before-crash")');

    await first.kill('SIGKILL');
    await page.waitForSelector('[data-testid="connection-state"][data-state="reconnecting"]');

    // Same port and journal; something happens while the page was away.
    const port = Number(new URL(first.url).port);
    server = await startOrchestrator({ dataDir: first.dataDir, port, args: ['--dashboard-dir', dashboardDir] });
    await api(server.url, 'POST', '/v1/constellations', {
      source: 'name: after-restart\ntasks:\n  b:\n    run: echo b\n',
    });

    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
    await page.waitForSelector('[data-testid="constellation-list"] :text("after-restart")');
    expect(await page.locator('[data-testid="constellation-list"]').textContent()).toContain('before-crash');
  });
});
