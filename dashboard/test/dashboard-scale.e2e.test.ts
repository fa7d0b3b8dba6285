// Browser test against a REAL orchestrator (no agents: tasks wait): a
// 1,500-task constellation opens zoomed out with compact nodes (no text) and
// stays usable (a click opens a task, zooming in brings labels back and
// renders only what is on screen), and the submit page previews a planned
// graph as a DAG beside the editable YAML.
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type OrchestratorHandle, startOrchestrator } from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

const TASKS = 1500;
// The built-in planner's controlled language (docs/planner.md): a fan-out and a join.
const PROMPT =
  'on linux as fetch: echo fetch; then on linux as build: make and on linux as test: make test; then on linux as package: tar czf out.tgz .';
const WIDTH = 50;

/** Layers of WIDTH tasks, each needing the task above it in the previous layer. */
function layeredGraph(): { name: string; tasks: Record<string, { run: string; needs?: string[] }> } {
  const tasks: Record<string, { run: string; needs?: string[] }> = {};
  for (let i = 0; i < TASKS; i++)
    tasks[`t${i}`] = i < WIDTH ? { run: 'true' } : { run: 'true', needs: [`t${i - WIDTH}`] };
  return { name: 'scale-e2e', tasks };
}

const dagAttr = (page: Page, name: string) =>
  page.locator('[data-testid="dag"]').getAttribute(name) as Promise<string | null>;

describe('big graphs and the plan preview in a browser', () => {
  let orch: OrchestratorHandle | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    requirePrerequisites();
    const dashboardDir = buildDashboard();
    orch = await startOrchestrator({ args: ['--dashboard-dir', dashboardDir] });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(30_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await orch?.kill('SIGTERM');
  });

  it('draws 1,500 tasks as compact nodes, opens one on click, and shows labels only when zoomed in', async () => {
    const c = await api<{ id: string }>(orch!.url, 'POST', '/v1/constellations', layeredGraph());
    await page.goto(`${orch!.url}/#/c/${c.id}`);
    await page.waitForSelector('[data-testid="dag"][data-level="compact"]');
    expect(Number(await dagAttr(page, 'data-rendered-nodes'))).toBe(TASKS);
    // Compact: no text at all, and far fewer elements than one group of six per node.
    expect(await page.locator('[data-testid="dag"] text').count()).toBe(0);
    expect(await page.locator('[data-testid="dag"] *').count()).toBeLessThan(TASKS + 100);
    await page.waitForSelector('[data-testid="dag-lod-note"]');

    // Still interactive: a click on a compact node opens its drawer.
    await page.locator('[data-testid="node-t0"]').click({ force: true });
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="t0"]');
    await page.click('[data-testid="task-drawer"] [aria-label="Close drawer"]');

    // Zoom in with the wheel: labels come back, and only the nodes on screen are rendered.
    const box = await page.locator('.dag-svg').boundingBox();
    await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2);
    for (let i = 0; i < 40 && (await dagAttr(page, 'data-level')) === 'compact'; i++) await page.mouse.wheel(0, -300);
    await page.waitForSelector('[data-testid="dag"][data-level="full"]');
    const drawn = Number(await dagAttr(page, 'data-rendered-nodes'));
    expect(drawn).toBeGreaterThan(0);
    expect(drawn).toBeLessThan(TASKS / 4);
    expect(await page.locator('[data-testid="dag"] .node-name').count()).toBe(drawn);

    // "detail: full" draws everything with labels whatever the zoom.
    await page.click('[data-testid="dag-detail"]');
    await page.waitForSelector('[data-testid="dag-detail"][data-mode="full"]');
    expect(Number(await dagAttr(page, 'data-rendered-nodes'))).toBe(TASKS);
    await page.click('[data-testid="dag-detail"]');
    await page.waitForSelector('[data-testid="dag-detail"][data-mode="auto"]');
  });

  it('draws a 40-way fan-out as one group that expands on click and opens a member from its link', async () => {
    const tasks: Record<string, { run: string; needs?: string[] }> = { split: { run: 'true' } };
    for (let i = 0; i < 40; i++) tasks[`shard-${String(i).padStart(2, '0')}`] = { run: 'true', needs: ['split'] };
    tasks.join = { run: 'true', needs: Object.keys(tasks).filter((id) => id !== 'split') };
    const c = await api<{ id: string }>(orch!.url, 'POST', '/v1/constellations', { name: 'fan-out', tasks });
    await page.goto(`${orch!.url}/#/c/${c.id}`);
    const group = page.locator('[data-testid="group-shard-00"]');
    await group.waitFor();
    expect(await group.getAttribute('data-count')).toBe('40');
    expect(await page.locator('[data-testid="node-shard-07"]').count()).toBe(0);
    await group.click();
    await page.waitForSelector('[data-testid="node-shard-07"]');
    await page.click('[data-testid="dag-collapse"]');
    await page.waitForSelector('[data-testid="group-shard-00"]');
    // A deep link to a member (as from the devices page) expands its group and opens it.
    await page.goto(`${orch!.url}/#/c/${c.id}/t/shard-12`);
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="shard-12"]');
    await page.waitForSelector('[data-testid="node-shard-12"].selected');
  });

  it('previews a planned graph as a DAG beside the YAML, following edits', async () => {
    await page.click('[data-testid="nav-submit"]');
    await page.fill('[data-testid="plan-input"]', PROMPT);
    await page.click('[data-testid="plan-button"]');
    const preview = page.locator('[data-testid="plan-preview"][data-state="ok"]');
    await preview.waitFor();
    expect(await page.locator('[data-testid="plan-note"]').textContent()).toContain('Planned by the builtin planner');
    // No device is connected, so the planner warns that "linux" is taken as a label; the page shows it.
    expect(await page.locator('[data-testid="plan-warnings"]').textContent()).toContain('linux');
    const planned = await api<{ graph: { tasks: Record<string, unknown> } }>(orch!.url, 'POST', '/v1/plan', {
      prompt: PROMPT,
    });
    const ids = Object.keys(planned.graph.tasks);
    expect(Number(await preview.getAttribute('data-tasks'))).toBe(ids.length);
    for (const id of ids) expect(await preview.locator(`[data-testid="node-${id}"]`).count(), id).toBe(1);

    // Editing the YAML redraws the preview; text that does not parse says so.
    const source = await page.inputValue('[data-testid="submit-source"]');
    await page.fill('[data-testid="submit-source"]', `${source.trimEnd()}\n  extra-step:\n    run: echo extra\n`);
    await page.waitForSelector('[data-testid="plan-preview"] [data-testid="node-extra-step"]');
    await page.fill('[data-testid="submit-source"]', 'tasks: [unclosed');
    await page.waitForSelector('[data-testid="plan-preview"][data-state="error"]');
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
