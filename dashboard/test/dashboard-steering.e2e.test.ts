// Browser test of steering and roles against a REAL orchestrator with
// authentication on: an operator token skips a task, adds a task and a
// dependency from the page and sees a refused edit's code, message and path
// (a cycle); a viewer token sees the same constellation with every steering
// control disabled and the reason shown. No agent is connected, so tasks
// stay pending/ready and every edit applies.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessHandle, spawnCli, waitFor } from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

const GRAPH = {
  name: 'steer-me',
  tasks: {
    a: { run: 'echo a' },
    b: { run: 'echo b', needs: ['a'] },
    c: { run: 'echo c', needs: ['b'] },
  },
};

const node = (taskId: string, status?: string) =>
  `[data-testid="node-${taskId}"]${status ? `[data-status="${status}"]` : ''}`;

describe('steering from the page, per role', () => {
  let server: ProcessHandle | undefined;
  let browser: Browser | undefined;
  let url = '';
  let admin = '';
  let constellationId = '';
  const pageErrors: string[] = [];

  async function call<T>(method: string, path: string, body?: unknown, token = admin): Promise<T> {
    const res = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw Object.assign(new Error(`${method} ${path} -> ${res.status}`), { body: json });
    return json;
  }

  /** A page that already holds `token`, opened on the constellation. */
  async function pageWithToken(token: string): Promise<Page> {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.addInitScript((t) => localStorage.setItem('orrery.apiToken', t), token);
    await page.goto(`${url}/#/c/${constellationId}`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
    await page.waitForSelector(node('a'));
    return page;
  }

  beforeAll(async () => {
    requirePrerequisites();
    const dashboardDir = buildDashboard();
    const dataDir = mkdtempSync(join(tmpdir(), 'orrery-dash-steer-'));
    server = spawnCli(['server', '--port', '0', '--data-dir', dataDir, '--dashboard-dir', dashboardDir]);
    const info = await waitFor(() => {
      if (server?.child.exitCode !== null) throw new Error(`orchestrator exited early:\n${server?.output()}`);
      const file = join(dataDir, 'server.json');
      return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { url: string }) : undefined;
    }, 'the orchestrator to listen');
    url = info.url;
    admin = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    constellationId = (await call<{ id: string }>('POST', '/v1/constellations', GRAPH)).id;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.kill('SIGTERM');
  });

  it('an operator skips a task, adds a task and a dependency, and sees a cycle refused precisely', async () => {
    const { token } = await call<{ token: string }>('POST', '/v1/admin/api-tokens', { role: 'operator' });
    const page = await pageWithToken(token);
    await page.waitForSelector('[data-testid="role"][data-role="operator"]');
    expect(await page.locator('[data-testid="read-only-reason"]').count()).toBe(0);

    // Skip: c has not started, so it may be skipped.
    await page.click(node('c'));
    await page.click('[data-testid="task-skip"]');
    await page.waitForSelector(node('c', 'skipped'));
    await page.click('[data-testid="task-drawer"] [aria-label="Close drawer"]');

    // Add a task that needs a.
    await page.click('[data-testid="constellation-edit"]');
    await page.fill('[data-testid="add-task-id"]', 'd');
    await page.fill('[data-testid="add-task-command"]', 'echo d');
    await page.fill('[data-testid="add-task-labels"]', 'linux, gpu');
    await page.fill('[data-testid="add-task-needs"]', 'a');
    await page.click('[data-testid="add-task-submit"]');
    await page.waitForSelector(node('d', 'pending'));
    await page.waitForSelector('[data-testid="edge-a-d"]');
    const server = await call<{ tasks: Record<string, { spec: { target: unknown } }> }>(
      'GET',
      `/v1/constellations/${constellationId}`,
    );
    expect(server.tasks.d?.spec.target).toEqual({ labels: ['linux', 'gpu'] });

    // Add a dependency d -> b (b has not started).
    await page.selectOption('[data-testid="add-dep-from"]', 'd');
    await page.selectOption('[data-testid="add-dep-to"]', 'b');
    await page.selectOption('[data-testid="add-dep-kind"]', 'completion');
    await page.click('[data-testid="add-dep-submit"]');
    await page.waitForSelector('[data-testid="edge-d-b"].edge-completion');

    // b -> d would close a cycle: the server refuses, the page shows its code, message and path.
    await page.selectOption('[data-testid="add-dep-from"]', 'b');
    await page.selectOption('[data-testid="add-dep-to"]', 'd');
    await page.click('[data-testid="add-dep-submit"]');
    const box = page.locator('[data-testid="edit-panel"] [data-testid="error-box"]');
    await box.waitFor();
    expect(await box.locator('[data-testid="error-code"]').textContent()).toBe('EDIT_CYCLE');
    const text = (await box.textContent()) ?? '';
    expect(text).toContain('b -> d -> b');
    expect(text).toContain('/operations/0');
    // Nothing changed: no edge b -> d.
    expect(await page.locator('[data-testid="edge-b-d"]').count()).toBe(0);
    await page.close();
  });

  it('a viewer sees the constellation with steering disabled and told why', async () => {
    const { token } = await call<{ token: string }>('POST', '/v1/admin/api-tokens', { role: 'viewer' });
    const page = await pageWithToken(token);
    await page.waitForSelector('[data-testid="role"][data-role="viewer"]');
    expect(await page.locator('[data-testid="read-only-reason"]').textContent()).toContain('viewer role');
    for (const id of ['constellation-edit', 'constellation-pause', 'constellation-cancel']) {
      expect(await page.locator(`[data-testid="${id}"]`).isDisabled(), id).toBe(true);
    }
    // a is ready: an operator could cancel or skip it; a viewer cannot.
    await page.click(node('a', 'ready'));
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="a"]');
    for (const id of ['task-cancel', 'task-skip', 'task-retry']) {
      expect(await page.locator(`[data-testid="${id}"]`).isDisabled(), id).toBe(true);
    }
    expect(await page.locator('[data-testid="task-read-only"]').textContent()).toContain('operator token');

    await page.click('[data-testid="nav-submit"]');
    expect(await page.locator('[data-testid="submit-button"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-testid="submit-read-only"]').textContent()).toContain('viewer role');
    await page.close();
  });

  it('raised no uncaught errors in the pages', () => {
    expect(pageErrors).toEqual([]);
  });
});
