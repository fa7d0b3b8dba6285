#!/usr/bin/env node
// How the dashboard's DAG view copes with big graphs, in Debian's chromium
// (headless, driven by playwright-core) against a real orchestrator serving
// the built dashboard. For each size it submits a layered graph (no agents:
// tasks stay pending/ready) and opens it twice: with the automatic level of
// detail (compact nodes when zoomed out, viewport culling) and with
// `detail: full` (every node with its labels, always). Prints:
//   first render  — navigation start to the DAG in the DOM (fetch + layout + render)
//   DOM elements  — in the whole page and inside the DAG, at the fitted zoom
//   zoom step     — mean time from a wheel event to the next painted frame (10 steps)
//   pan frame     — the same for a 20 px drag, zoomed in to 100 % (labels on)
//   idle frame    — two animation frames with no input: the floor under the two figures above
//
//   node scripts/bench/dashboard-render.mjs [--tasks 1000,2000] [--width 50]
//
// Needs `npm run build` (orchestrator + dashboard/dist) and /usr/bin/chromium.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = '/usr/bin/chromium';
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const SIZES = arg('tasks', '1000,2000').split(',').map(Number);
const WIDTH = Number(arg('width', '50'));

for (const [path, fix] of [
  [join(ROOT, 'orchestrator/dist/cli/main.js'), 'npm run build'],
  [join(ROOT, 'dashboard/dist/index.html'), 'npm run build'],
  [CHROMIUM, 'apt-get install -y chromium'],
]) {
  if (!existsSync(path)) {
    console.error(`dashboard-render: ${path} is missing (${fix})`);
    process.exit(1);
  }
}
const { chromium } = await import('playwright-core');

/** A layered graph: `width` tasks per rank, each needing one or two tasks of the rank before (seeded). */
function layeredGraph(n, width) {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const tasks = {};
  for (let i = 0; i < n; i++) {
    const rank = Math.floor(i / width);
    const task = { run: 'true' };
    if (rank > 0) {
      const prev = (rank - 1) * width;
      const needs = new Set([`t${prev + Math.floor(rand() * width)}`, `t${prev + Math.floor(rand() * width)}`]);
      task.needs = [...needs];
    }
    tasks[`t${i}`] = task;
  }
  return { name: `render-bench-${n}`, tasks };
}

async function startServer() {
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-render-bench-'));
  const child = spawn(
    process.execPath,
    [join(ROOT, 'orchestrator/bin/orrery.js'), 'server', '--no-auth', '--port', '0', '--no-grpc', '--data-dir', dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const info = join(dataDir, 'server.json');
  for (let i = 0; i < 300 && !existsSync(info); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(info)) throw new Error('the orchestrator did not start');
  return { url: JSON.parse(readFileSync(info, 'utf8')).url, child, dataDir };
}

// Runs in the page: mean ms from an input event to the frame after it.
async function measureFrames({ kind, steps }) {
  const svg = document.querySelector('.dag-svg');
  const r = svg.getBoundingClientRect();
  const cx = r.left + r.width / 2;
  const cy = r.top + r.height / 2;
  const frame = () => new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
  await frame();
  let total = 0;
  if (kind === 'idle') {
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await frame();
      total += performance.now() - t0;
    }
    return total / steps;
  }
  if (kind === 'pan') svg.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, button: 0, clientX: cx, clientY: cy, pointerId: 1 }));
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    if (kind === 'zoom') svg.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaY: -100, clientX: cx, clientY: cy }));
    else svg.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, clientX: cx + (i + 1) * 20, clientY: cy, pointerId: 1 }));
    await frame();
    total += performance.now() - t0;
  }
  if (kind === 'pan') svg.dispatchEvent(new PointerEvent('pointerup', { bubbles: true, pointerId: 1 }));
  return total / steps;
}

async function measure(browser, url, id, mode) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.addInitScript((m) => localStorage.setItem('orrery.dagDetail', m), mode);
  const t0 = Date.now();
  await page.goto(`${url}/#/c/${id}`);
  await page.waitForSelector('[data-testid="dag"] [data-testid^="node-"]', { timeout: 120_000 });
  const firstRender = Date.now() - t0;
  await page.waitForTimeout(300); // let the fit settle
  const counts = await page.evaluate(() => ({
    page: document.getElementsByTagName('*').length,
    dag: document.querySelectorAll('[data-testid="dag"] *').length,
    nodes: Number(document.querySelector('[data-testid="dag"]').getAttribute('data-rendered-nodes')),
    level: document.querySelector('[data-testid="dag"]').getAttribute('data-level'),
  }));
  const idleMs = await page.evaluate(measureFrames, { kind: 'idle', steps: 10 });
  const zoomMs = await page.evaluate(measureFrames, { kind: 'zoom', steps: 10 });
  // Zoom in to 100 % (labels on), then pan.
  await page.evaluate(async () => {
    const svg = document.querySelector('.dag-svg');
    const r = svg.getBoundingClientRect();
    for (let i = 0; i < 60; i++) {
      const g = svg.querySelector(':scope > g');
      const k = Number(/scale\(([\d.e-]+)\)/.exec(g.getAttribute('transform'))?.[1] ?? 1);
      if (k >= 1) break;
      svg.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaY: -100, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 }));
      await new Promise((res) => requestAnimationFrame(res));
    }
  });
  const zoomedNodes = await page.evaluate(() => Number(document.querySelector('[data-testid="dag"]').getAttribute('data-rendered-nodes')));
  const panMs = await page.evaluate(measureFrames, { kind: 'pan', steps: 10 });
  await page.close();
  return { firstRender, ...counts, idleMs, zoomMs, zoomedNodes, panMs };
}

const server = await startServer();
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  console.log('dashboard-render: DAG view in headless chromium, 1400×900, no agents (tasks pending/ready)');
  console.log('tasks  detail  first render  DOM (page / DAG)  nodes drawn (fit / 100%)  level at fit  idle frame  zoom step  pan frame');
  for (const n of SIZES) {
    const res = await fetch(`${server.url}/v1/constellations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'return=minimal' },
      body: JSON.stringify(layeredGraph(n, WIDTH)),
    });
    if (!res.ok) throw new Error(`submit failed: ${res.status} ${await res.text()}`);
    const { id } = await res.json();
    for (const mode of ['auto', 'full']) {
      const m = await measure(browser, server.url, id, mode);
      console.log(
        `${String(n).padStart(5)}  ${mode.padEnd(6)}  ${`${m.firstRender} ms`.padStart(12)}  ${`${m.page} / ${m.dag}`.padStart(16)}  ${`${m.nodes} / ${m.zoomedNodes}`.padStart(24)}  ${m.level.padStart(12)}  ${`${m.idleMs.toFixed(1)} ms`.padStart(10)}  ${`${m.zoomMs.toFixed(1)} ms`.padStart(9)}  ${`${m.panMs.toFixed(1)} ms`.padStart(9)}`,
      );
    }
  }
} finally {
  await browser.close();
  server.child.kill('SIGTERM');
  await new Promise((r) => server.child.once('exit', r));
  rmSync(server.dataDir, { recursive: true, force: true });
}
