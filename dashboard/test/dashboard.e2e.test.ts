// Browser test: the built dashboard, served by a REAL orchestrator with REAL
// agents (scripts/testing/stack.ts), driven through Debian's chromium with
// playwright-core. It submits through the page, watches the DAG settle from
// SSE updates, reads logs in the task drawer, lists devices and shows a
// submit error's code.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack } from '../../scripts/testing/stack.js';
import { buildDashboard, CHROMIUM, CHROMIUM_ARGS, requirePrerequisites } from './browser-setup.js';

const SETTLE_MS = 30_000;

const AGENTS = [
  { name: 'e2e-alpha', labels: ['linux', 'e2e'] },
  { name: 'e2e-beta', labels: ['linux', 'e2e'] },
];

// hello succeeds; boom fails (exit 3); after-boom needs boom to succeed, so it
// is skipped; report has a completion dependency on boom, so it runs anyway.
const GRAPH = `name: dashboard-e2e
tasks:
  hello:
    run: echo hello-from-dashboard
  slow:
    run: echo tick-1 && sleep 1 && echo tick-2
  boom:
    run: echo about-to-fail && exit 3
    needs: [hello]
  after-boom:
    run: echo never-runs
    needs: [boom]
  report:
    run: echo report-after-boom
    needs: { boom: completion }
`;

// Prints, waits, prints again: the second line reaches an open drawer live.
const STREAMING_GRAPH = `name: dashboard-e2e-logs
tasks:
  chatty:
    run: echo first-line && sleep 2 && echo second-line
`;

// Targets a label no agent has: the task waits until it is cancelled.
const WAITING_GRAPH = `name: dashboard-e2e-waiting
tasks:
  stuck:
    run: echo never
    target: { labels: [nowhere] }
`;

// make writes a file and declares it as an artifact; use receives it before it starts.
const ARTIFACT_BYTES = 'artifact-from-the-dashboard-e2e\n'.repeat(100);
const ARTIFACT_GRAPH = `name: dashboard-e2e-artifacts
tasks:
  make:
    run: for i in $(seq 100); do echo artifact-from-the-dashboard-e2e; done > bundle.txt
    artifacts:
      bundle: bundle.txt
  use:
    artifactInputs:
      in/bundle.txt: tasks.make.artifacts.bundle
    run: wc -c in/bundle.txt
`;

// `needs` names a task that does not exist: the server must refuse the graph.
const BAD_GRAPH = `name: broken
tasks:
  a:
    run: echo a
    needs: [does-not-exist]
`;

interface Refusal {
  code?: string;
  errors?: Array<{ code?: string; path?: string; line?: number }>;
}

/** What the API itself answers for a bad graph, to compare with what the page shows. */
async function refusalFrom(url: string, source: string): Promise<Refusal> {
  try {
    await api(url, 'POST', '/v1/constellations', { source, format: 'yaml' });
  } catch (err) {
    const e = err as { status?: number; body?: Refusal };
    expect(e.status).toBeGreaterThanOrEqual(400);
    expect(e.body?.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    return e.body ?? {};
  }
  throw new Error(`the server accepted a graph it should refuse:\n${source}`);
}

const node = (taskId: string, status: string) => `[data-testid="node-${taskId}"][data-status="${status}"]`;

describe('dashboard in a browser against a real orchestrator and agents', () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const refusal = (source: string) => refusalFrom(stack!.url, source);

  beforeAll(async () => {
    requirePrerequisites();
    const dashboardDir = buildDashboard();
    stack = await startStack({ agents: AGENTS, serverArgs: ['--dashboard-dir', dashboardDir] });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(SETTLE_MS);
    await page.goto(stack.url);
    await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('submits a graph from the page and shows every node reach its final status', async () => {
    await page.click('[data-testid="nav-submit"]');
    await page.fill('[data-testid="submit-source"]', GRAPH);
    await page.click('[data-testid="submit-button"]');

    await page.waitForURL(/#\/c\//);
    await page.waitForSelector(node('hello', 'succeeded'));
    await page.waitForSelector(node('boom', 'failed'));
    await page.waitForSelector(node('after-boom', 'skipped'));
    await page.waitForSelector(node('report', 'succeeded'));
    await page.waitForSelector(node('slow', 'succeeded'));
    await page.waitForSelector('[data-testid="constellation-status"][data-status="failed"]');

    const id = decodeURIComponent(page.url().split('#/c/')[1]!.split('/')[0]!);
    // The sidebar learns the final status from the `constellation` SSE events.
    const item = await page.waitForSelector(`[data-testid="constellation-item-${id}"][data-status="failed"]`);
    expect(await item.textContent()).toContain('dashboard-e2e');
  });

  it('opens a task drawer with its spec, attempts and log text', async () => {
    await page.click('[data-testid="node-boom"]');
    const drawer = page.locator('[data-testid="task-drawer"]');
    await drawer.waitFor();
    expect(await drawer.textContent()).toContain('exit 3');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="task-logs"]')?.textContent?.includes('about-to-fail') ?? false,
    );
    expect(await page.locator('[data-testid="task-attempts"]').textContent()).toMatch(/e2e-(alpha|beta)/);

    await page.click('[data-testid="node-hello"]');
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="hello"]');
    await page.waitForFunction(
      () => document.querySelector('[data-testid="task-logs"]')?.textContent?.includes('hello-from-dashboard') ?? false,
    );
  });

  it('retries a failed task from its drawer and follows the new attempt', async () => {
    await page.click('[data-testid="node-boom"]');
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="boom"]');
    await page.click('[data-testid="task-retry"]');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="task-attempts"] tbody tr').length === 2);
    await page.waitForSelector(node('boom', 'failed'));
    // The drawer follows the newest attempt: its heading and its logs.
    await page.waitForFunction(() => {
      const drawer = document.querySelector('[data-testid="task-drawer"]')?.textContent ?? '';
      const logs = document.querySelector('[data-testid="task-logs"]')?.textContent ?? '';
      return drawer.includes('attempt 2') && logs.includes('about-to-fail');
    });
  });

  it('draws the attempts on the timeline', async () => {
    await page.click('[data-testid="tab-timeline"]');
    await page.waitForSelector('[data-testid="timeline"] [data-testid^="timeline-row-"]');
    expect(await page.locator('[data-testid^="timeline-row-"]').count()).toBeGreaterThanOrEqual(1);
    await page.click('[data-testid="tab-graph"]');
  });

  it('lists a constellation submitted elsewhere and streams its logs into the open drawer', async () => {
    // Submitted through the API, not the page: the sidebar learns of it from SSE.
    const created = await api<{ id: string }>(stack!.url, 'POST', '/v1/constellations', {
      source: STREAMING_GRAPH,
      format: 'yaml',
    });
    await page.click(`[data-testid="constellation-item-${created.id}"]`);
    await page.waitForSelector(node('chatty', 'running'));
    let logFetches = 0;
    page.on('request', (req) => {
      if (req.url().includes('/tasks/chatty/logs')) logFetches++;
    });
    await page.click('[data-testid="node-chatty"]');
    const logsContain = (text: string) =>
      page.waitForFunction(
        (t) => document.querySelector('[data-testid="task-logs"]')?.textContent?.includes(t) ?? false,
        text,
      );
    await logsContain('first-line');
    // Printed a moment after the drawer fetched the stored text: it arrives as an SSE `log` event.
    await logsContain('second-line');
    expect(logFetches).toBe(1); // the stored text once; everything after came from the stream
    await page.waitForSelector(node('chatty', 'succeeded'));
  });

  it('pauses, resumes, cancels a waiting task from its drawer and lists the edit in the history', async () => {
    const created = await api<{ id: string }>(stack!.url, 'POST', '/v1/constellations', {
      source: WAITING_GRAPH,
      format: 'yaml',
    });
    await page.click(`[data-testid="constellation-item-${created.id}"]`);
    await page.waitForSelector(node('stuck', 'ready'));
    await page.click('[data-testid="constellation-pause"]');
    await page.waitForSelector('[data-testid="constellation-status"][data-status="paused"]');
    await page.click('[data-testid="constellation-resume"]');
    await page.waitForSelector('[data-testid="constellation-status"][data-status="running"]');

    await page.click('[data-testid="node-stuck"]');
    // No agent has the label, so the drawer says why the task waits.
    expect(await page.locator('[data-testid="waiting-reason"]').textContent()).toContain('nowhere');
    await page.click('[data-testid="task-cancel"]');
    await page.waitForSelector(node('stuck', 'cancelled'));

    await page.click('[data-testid="tab-history"]');
    const row = await page.waitForSelector('[data-testid^="history-"]:has-text("cancel_task stuck")');
    expect(await row.getAttribute('data-testid')).toMatch(/^history-\d+$/);
    await page.click('[data-testid="tab-graph"]');
  });

  it('lists the connected devices with their labels', async () => {
    await page.click('[data-testid="nav-devices"]');
    for (const a of AGENTS) {
      await page.waitForSelector(`[data-testid="device-row-${a.name}"][data-status="online"]`).catch(async (err) => {
        const shown = await page.locator('main').textContent();
        const served = await api(stack!.url, 'GET', '/v1/devices');
        throw new Error(`${err}\npage shows: ${shown}\nAPI says: ${JSON.stringify(served)}`);
      });
    }
    expect(await page.locator('[data-testid="devices-table"]').textContent()).toContain('e2e');
  });

  it('drains a device from its row', async () => {
    const last = AGENTS[AGENTS.length - 1]!.name;
    await page.click(`[data-testid="device-drain-${last}"]`);
    await page.waitForSelector(`[data-testid="device-row-${last}"][data-status="draining"]`);
  });

  it('shows the error code, path and line of a graph the server refuses', async () => {
    await page.click('[data-testid="nav-submit"]');
    let lastSeq: string | null = null;
    // An unknown dependency (a validation error) and a YAML syntax error.
    for (const source of [BAD_GRAPH, 'name: x\ntasks: [unclosed\n']) {
      const refused = await refusal(source);
      await page.fill('[data-testid="submit-source"]', source);
      await page.click('[data-testid="submit-button"]');
      const selector: string =
        lastSeq === null ? '[data-testid="error-box"]' : `[data-testid="error-box"]:not([data-seq="${lastSeq}"])`;
      const box = await page.waitForSelector(selector);
      lastSeq = await box.getAttribute('data-seq');
      expect(await page.locator('[data-testid="error-code"]').textContent()).toBe(refused.code);
      const text = (await box.textContent()) ?? '';
      for (const item of refused.errors ?? []) {
        if (item.path) expect(text).toContain(item.path);
        if (typeof item.line === 'number') {
          expect(text).toContain(`line ${item.line}`);
          // Also marked in the editor itself, at that line, with its message.
          const inline = page.locator(`[data-testid="inline-error"][data-line="${item.line}"]`);
          expect(await inline.count()).toBe(1);
          expect(await page.locator(`.editor-gutter .gl.err[data-line="${item.line}"]`).count()).toBe(1);
        }
      }
    }
  });

  it('opens a graph file into the editor and submits it', async () => {
    await page.click('[data-testid="nav-submit"]');
    await page.setInputFiles('[data-testid="submit-file"]', {
      name: 'uploaded.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify({ name: 'uploaded', tasks: { one: { run: 'echo uploaded' } } })),
    });
    await page.waitForFunction(
      () => (document.querySelector('[data-testid="submit-source"]') as HTMLTextAreaElement).value.includes('uploaded'),
    );
    expect(await page.inputValue('[data-testid="submit-format"]')).toBe('json');
    await page.click('[data-testid="submit-button"]');
    await page.waitForSelector(node('one', 'succeeded'));
  });

  it("shows a task's artifacts in its drawer and downloads the exact bytes", async () => {
    const created = await api<{ id: string }>(stack!.url, 'POST', '/v1/constellations', {
      source: ARTIFACT_GRAPH,
      format: 'yaml',
    });
    await page.click(`[data-testid="constellation-item-${created.id}"]`);
    await page.waitForSelector(node('use', 'succeeded'));
    const expected = createHash('sha256').update(ARTIFACT_BYTES).digest('hex');

    // The consumer lists where its input lands and where it comes from.
    await page.click('[data-testid="node-use"]');
    await page.waitForSelector('[data-testid="task-drawer"][data-task-id="use"]');
    expect(await page.locator('[data-testid="artifact-input-in/bundle.txt"]').textContent()).toContain(
      'tasks.make.artifacts.bundle',
    );

    await page.click('[data-testid="node-make"]');
    const row = page.locator('[data-testid="task-drawer"][data-task-id="make"] [data-testid="artifact-bundle"]');
    await row.waitFor();
    expect(await row.locator('[data-testid="artifact-digest"]').getAttribute('title')).toBe(expected);
    expect(await row.locator('[data-testid="artifact-size"]').textContent()).toBe('3.1 KiB');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.locator('[data-testid="artifact-download"]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('bundle.txt');
    const bytes = readFileSync(await download.path());
    expect(bytes.length).toBe(ARTIFACT_BYTES.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(expected);
  });

  it('raised no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
