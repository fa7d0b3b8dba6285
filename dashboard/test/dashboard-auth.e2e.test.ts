// Browser test of the token flow against a REAL orchestrator with
// authentication on: the page asks for a token after a 401, keeps it in
// localStorage, sends it as a bearer header and on the SSE stream as
// ?access_token=, and says so when a token is rejected.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessHandle, spawnCli, waitFor } from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

describe('dashboard with API authentication on', () => {
  let server: ProcessHandle | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  let adminToken = '';

  beforeAll(async () => {
    requirePrerequisites();
    const dashboardDir = buildDashboard();
    const dataDir = mkdtempSync(join(tmpdir(), 'orrery-dash-auth-'));
    server = spawnCli(['server', '--port', '0', '--data-dir', dataDir, '--dashboard-dir', dashboardDir]);
    const info = await waitFor(() => {
      if (server?.child.exitCode !== null) throw new Error(`orchestrator exited early:\n${server?.output()}`);
      const file = join(dataDir, 'server.json');
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { url: string }) : undefined;
    }, 'the orchestrator to listen');
    url = info.url;
    // The first start creates an admin token and saves it beside the journal.
    adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1300, height: 800 } });
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill('SIGTERM');
  });

  it('asks for a token after a 401 and says when one is rejected', async () => {
    await page.goto(url);
    await page.waitForSelector('[data-testid="token-input"]');
    expect(await page.locator('.token-form').textContent()).toContain('API token required');

    await page.fill('[data-testid="token-input"]', 'orra_not-a-real-token');
    await page.press('[data-testid="token-input"]', 'Enter');
    await page.waitForFunction(() => document.querySelector('.token-form')?.textContent?.includes('token rejected'));
  });

  it('with a valid token, loads data, goes live and submits', async () => {
    await page.fill('[data-testid="token-input"]', adminToken);
    await page.press('[data-testid="token-input"]', 'Enter');
    // The SSE stream only opens with ?access_token= accepted by the server.
    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
    expect(await page.evaluate(() => localStorage.getItem('orrery.apiToken'))).toBe(adminToken);

    await page.click('[data-testid="nav-submit"]');
    await page.fill('[data-testid="submit-source"]', 'name: with-token\ntasks:\n  only:\n    run: echo hi\n');
    await page.click('[data-testid="submit-button"]');
    // No agent is connected: the task waits, and the page shows why.
    await page.waitForSelector('[data-testid="node-only"][data-status="ready"]');
    await page.click('[data-testid="node-only"]');
    expect(await page.locator('[data-testid="waiting-reason"]').textContent()).toMatch(/device/);
  });
});
