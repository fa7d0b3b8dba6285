#!/usr/bin/env node
// Screenshots of the dashboard's main views, for docs/screenshots/ and the
// READMEs. Starts a real stack (an orchestrator and three agents on
// loopback), submits the examples, lets them run, kills one agent so the
// devices page shows a lost device, then saves PNGs taken in Debian's
// chromium (headless, playwright-core):
//
//   constellation-dag.png   constellations list + the DAG of examples/hello.yaml
//   failure-dag.png         examples/failure-handling.yaml: failed, skipped, handler, completion
//   timeline.png            attempts per device
//   task-drawer.png         a failed task: spec, attempts, logs
//   devices.png             online and lost devices, capabilities, load
//   submit-error.png        a refused graph with its code, path and line
//   plan-preview.png        a planned graph previewed as a DAG beside its YAML
//   big-graph.png           2,000 tasks, zoomed out (level of detail)
//   edit-cycle.png          the edit panel refusing a dependency that closes a cycle
//
//   node scripts/dashboard-screenshots.mjs [--out docs/screenshots]
//
// Needs `npm run build` and /usr/bin/chromium.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'orchestrator/bin/orrery.js');
const CHROMIUM = '/usr/bin/chromium';
const argv = process.argv.slice(2);
const OUT = resolve(ROOT, argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : 'docs/screenshots');

for (const [path, fix] of [
  [join(ROOT, 'orchestrator/dist/cli/main.js'), 'npm run build'],
  [join(ROOT, 'dashboard/dist/index.html'), 'npm run build'],
  [CHROMIUM, 'apt-get install -y chromium'],
]) {
  if (!existsSync(path)) {
    console.error(`dashboard-screenshots: ${path} is missing (${fix})`);
    process.exit(1);
  }
}
const { chromium } = await import('playwright-core');

const children = [];
const tempDirs = [];
function spawnCli(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  return child;
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function api(base, method, path, body) {
  const res = await fetch(new URL(path, base), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json', prefer: 'return=minimal' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
  return JSON.parse(text);
}

const example = (name) => ({ source: readFileSync(join(ROOT, 'examples', name), 'utf8'), format: 'yaml' });

function bigGraph(n, width) {
  const tasks = {};
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i / width);
    const needs = new Set([`t${(r - 1) * width + ((i * 7) % width)}`, `t${i - width}`]);
    tasks[`t${i}`] = r === 0 ? { run: 'true' } : { run: 'true', needs: [...needs] };
  }
  return { name: 'two-thousand-tasks', tasks };
}

const dataDir = mkdtempSync(join(tmpdir(), 'orrery-shots-'));
tempDirs.push(dataDir);
spawnCli(['server', '--no-auth', '--port', '0', '--no-grpc', '--data-dir', dataDir, '--heartbeat-ms', '1000', '--log-level', 'warn']);
const info = await waitFor(() => {
  const f = join(dataDir, 'server.json');
  return existsSync(f) && JSON.parse(readFileSync(f, 'utf8'));
}, 'the orchestrator');
const url = info.url;

const agents = {};
for (const [name, labels] of [
  ['workstation', 'cpu,linux'],
  ['nas', 'io,linux'],
  ['old-laptop', 'io'],
]) {
  const dir = mkdtempSync(join(tmpdir(), `orrery-shots-${name}-`));
  tempDirs.push(dir);
  agents[name] = spawnCli(['agent', '--server', info.aipUrl, '--name', name, '--labels', labels, '--data-dir', dir]);
}
await waitFor(async () => (await api(url, 'GET', '/v1/devices')).items.filter((d) => d.status === 'online').length === 3, 'agents');

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1440, height: 860 }, colorScheme: 'light', deviceScaleFactor: 1 });
page.setDefaultTimeout(60_000);
mkdirSync(OUT, { recursive: true });
const shot = async (name) => {
  await page.waitForTimeout(400); // let transitions and the fit settle
  await page.screenshot({ path: join(OUT, name) });
  console.log(`saved ${join(OUT, name)}`);
};
const done = (id) =>
  waitFor(async () => ['succeeded', 'failed', 'cancelled'].includes((await api(url, 'GET', `/v1/constellations/${id}`)).status), id, 60_000);

try {
  const failure = await api(url, 'POST', '/v1/constellations', example('failure-handling.yaml'));
  await done(failure.id);
  const hello = await api(url, 'POST', '/v1/constellations', example('hello.yaml'));
  await done(hello.id);

  await page.goto(`${url}/#/c/${hello.id}`);
  await page.waitForSelector('[data-testid="connection-state"][data-state="live"]');
  await page.waitForSelector('[data-testid="node-report"][data-status="succeeded"]');
  await shot('constellation-dag.png');

  await page.click('[data-testid="tab-timeline"]');
  await page.waitForSelector('[data-testid^="timeline-row-"]');
  await shot('timeline.png');

  await page.goto(`${url}/#/c/${failure.id}`);
  await page.waitForSelector('[data-testid="node-notify"][data-status="succeeded"]');
  await shot('failure-dag.png');
  await page.click('[data-testid="node-migrate"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="task-logs"]')?.textContent?.includes('migrating'));
  await shot('task-drawer.png');

  // A cycle refused by the edit API, shown in the edit panel.
  const live = await api(url, 'POST', '/v1/constellations', {
    name: 'waiting-for-a-gpu',
    tasks: {
      prepare: { run: 'echo prepare', target: { labels: ['gpu'] } },
      train: { run: 'echo train', needs: ['prepare'], target: { labels: ['gpu'] } },
      evaluate: { run: 'echo evaluate', needs: ['train'] },
    },
  });
  await page.goto(`${url}/#/c/${live.id}`);
  await page.waitForSelector('[data-testid="node-prepare"][data-status="ready"]');
  await page.click('[data-testid="constellation-edit"]');
  await page.selectOption('[data-testid="add-dep-from"]', 'evaluate');
  await page.selectOption('[data-testid="add-dep-to"]', 'prepare');
  await page.click('[data-testid="add-dep-submit"]');
  await page.waitForSelector('[data-testid="edit-panel"] [data-testid="error-box"]');
  await shot('edit-cycle.png');

  agents['old-laptop'].kill('SIGKILL');
  await page.goto(`${url}/#/devices`);
  await page.waitForSelector('[data-testid="device-row-old-laptop"][data-status="lost"], [data-testid="device-row-old-laptop"][data-status="offline"]');
  await shot('devices.png');

  await page.goto(`${url}/#/submit`);
  await page.fill('[data-testid="submit-source"]', 'name: broken\ntasks:\n  build:\n    run: make\n  test:\n    run: make test\n    needs: [biuld]\n');
  await page.click('[data-testid="submit-button"]');
  await page.waitForSelector('[data-testid="error-box"]');
  await shot('submit-error.png');

  await page.goto(`${url}/#/submit`);
  await page.reload();
  await page.fill(
    '[data-testid="plan-input"]',
    'on nas as fetch (output list): ls /data; then on workstation as build: make and on workstation as test: make test; then on nas as package: tar czf out.tgz .',
  );
  await page.click('[data-testid="plan-button"]');
  await page.waitForSelector('[data-testid="plan-preview"][data-state="ok"]');
  await shot('plan-preview.png');

  const big = await api(url, 'POST', '/v1/constellations', bigGraph(2000, 50));
  await page.goto(`${url}/#/c/${big.id}`);
  await page.waitForSelector('[data-testid="dag"][data-level="compact"]');
  await shot('big-graph.png');
} finally {
  await browser.close();
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
