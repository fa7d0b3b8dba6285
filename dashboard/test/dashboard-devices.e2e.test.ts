// Browser test of the devices page against a REAL orchestrator (short
// heartbeats: a device is lost after 3 missed 300 ms beats) and REAL agents:
// capabilities, the running task with a link to it, resolved inputs in that
// task's drawer, and a killed agent's device turning lost live, from SSE.
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack } from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

const AGENTS = [
  { name: 'dev-keeper', labels: ['keep'] },
  { name: 'dev-victim', labels: ['victim'] },
];

// `hold` runs on the victim until it is killed; its env reads an upstream output.
const GRAPH = {
  name: 'devices-e2e',
  inputs: { greeting: 'hi' },
  tasks: {
    words: { run: 'echo alpha beta', outputs: { list: 'stdout' }, target: { labels: ['keep'] } },
    hold: {
      needs: ['words'],
      target: { labels: ['victim'] },
      env: { LIST: '${{ tasks.words.outputs.list }}' },
      inputs: { say: '${{ inputs.greeting }} ${{ tasks.words.outputs.list }}' },
      run: 'sleep 60',
    },
  },
};

describe('devices page against real agents', () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requirePrerequisites();
    const dashboardDir = buildDashboard();
    stack = await startStack({ agents: AGENTS, heartbeatMs: 300, serverArgs: ['--dashboard-dir', dashboardDir] });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows capabilities, load and the running task with a link to it', async () => {
    await api(stack!.url, 'POST', '/v1/constellations', GRAPH);
    await page.goto(`${stack!.url}/#/devices`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
    await page.waitForSelector('[data-testid="device-row-dev-victim"][data-status="online"]');
    const caps = page.locator('[data-testid="device-caps-dev-victim"]');
    await caps.waitFor();
    for (const key of ['hostname', 'cpus', 'memoryMb', 'executors']) {
      expect(await caps.locator(`[data-key="${key}"]`).count(), key).toBe(1);
    }
    expect(await caps.locator('[data-key="memoryMb"] dd').textContent()).toMatch(/[\d.]+ (MiB|GiB|TiB)/);
    expect(await caps.locator('[data-key="executors"] dd').textContent()).toContain('shell');

    // The task arrives on the victim live (a device event), as a link to its drawer.
    const link = page.locator('[data-testid="device-tasks-dev-victim"] a', { hasText: 'hold' });
    await link.waitFor();
    await link.click();
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="hold"]');
    // Inputs and env resolved as the attempt got them, not the ${{ }} templates.
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid="resolved-input-say"]')?.textContent?.includes('hi alpha beta') ?? false,
    );
    expect(await page.locator('[data-testid="resolved-env-LIST"]').textContent()).toContain('alpha beta');
  });

  it('shows a killed agent’s device turn lost, live', async () => {
    await page.click('[data-testid="nav-devices"]');
    await page.waitForSelector('[data-testid="device-row-dev-victim"][data-status="online"]');
    const victim = stack!.agents.find((a) => a.name === 'dev-victim')!;
    await victim.kill('SIGKILL');
    // No reload: the page learns it from the device event (heartbeats stop, or the socket drops).
    await page.waitForSelector(
      '[data-testid="device-row-dev-victim"][data-status="lost"], [data-testid="device-row-dev-victim"][data-status="offline"]',
    );
    const status = await page.locator('[data-testid="device-row-dev-victim"]').getAttribute('data-status');
    expect(['lost', 'offline']).toContain(status);
    // Its work was taken back: no running task is listed on it any more.
    await page.waitForFunction(() => !document.querySelector('[data-testid="device-tasks-dev-victim"]'));
    // The other device is untouched.
    expect(await page.locator('[data-testid="device-row-dev-keeper"]').getAttribute('data-status')).toBe('online');
    expect(await page.locator('[data-testid="device-counts"]').textContent()).toMatch(/1 (lost|offline)/);
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
