#!/usr/bin/env node
// Footprint of the device agent, in one run on one machine: bare node, the
// unbundled agent (bin/orrery-agent.js), the single-file bundle, and the
// bundle with the node flags the service definitions use (and a few other
// V8 settings for comparison). Each agent is connected to a real AipServer
// (heartbeats every 2 s) and idle.
//   idle:     VmRSS / RssAnon / RssFile after settling, and CPU % over a window
//   per task: N trivial shell tasks (`true`) one after another through the
//             session: agent CPU ms per task and assign→result latency, minus
//             what spawning `sh -c true` costs a bare node process.
// Linux only (/proc). Usage:
//   node scripts/bench/agent-footprint.mjs [settleSeconds=6] [cpuWindowSeconds=10] [tasks=40]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AipServer } from '@orrery/protocol';

const [settleS = 6, windowS = 10, tasks = 40] = process.argv.slice(2).map(Number);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'device-agent', 'bin', 'orrery-agent.js');
// Keep in step with DEFAULT_NODE_FLAGS in device-agent/src/service.ts.
const serviceFlags = ['--max-semi-space-size=1', '--max-old-space-size=128'];
const ticksPerSec = 100; // USER_HZ on Linux
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (process.platform !== 'linux') {
  console.log('agent-footprint: needs /proc (Linux); skipped');
  process.exit(0);
}

function mem(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
}

/** utime + stime of a process, in ms. */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSec;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'orrery-footprint-'));
const bundle = path.join(tmp, 'orrery-agent.mjs');
execFileSync(process.execPath, [path.join(root, 'device-agent', 'scripts', 'bundle.mjs'), '--outfile', bundle], { stdio: 'inherit' });
const bundleFull = path.join(tmp, 'orrery-agent.full.mjs');
execFileSync(process.execPath, [path.join(root, 'device-agent', 'scripts', 'bundle.mjs'), '--outfile', bundleFull, '--no-minify'], { stdio: 'inherit' });

const sessions = new Map();
const waiters = new Map();
const server = new AipServer({ authenticate: (hello) => ({ ok: true, deviceId: hello.deviceName }) });
server.on('session', (s) => {
  sessions.set(s.deviceId, s);
  s.on('message', (b) => {
    if (b.type === 'result') waiters.get(`${b.value.taskId}`)?.(b.value);
  });
});
const port = await server.listenWebSocket('127.0.0.1', 0);
const url = `ws://127.0.0.1:${port}/v1/aip`;

let n = 0;
function assign(command) {
  n += 1;
  return {
    constellationId: 'bench',
    taskId: `t${n}`,
    attempt: 1,
    leaseMs: 60_000,
    executor: { kind: 'shell', command, env: {}, cwd: '', argsJson: '' },
    inputs: {},
    timeoutMs: 0,
    outputs: [],
  };
}

async function runTasks(session, pid, count) {
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const a = assign('true');
    const done = new Promise((r) => waiters.set(a.taskId, r));
    session.send({ type: 'assign', value: a });
    const result = await done;
    if (result.outcome !== 'SUCCEEDED') throw new Error(`task failed: ${JSON.stringify(result)}`);
  }
  return { cpuPerTask: (cpuMs(pid) - cpu0) / count, msPerTask: (performance.now() - t0) / count };
}

const rows = [];
async function measureAgent(label, argv) {
  const name = `d${rows.length}`;
  const dataDir = path.join(tmp, name);
  const child = spawn(process.execPath, [...argv, '--server', url, '--name', name, '--data-dir', dataDir, '--log-level', 'warn', '--slots', '1'], {
    stdio: 'ignore',
  });
  try {
    const end = Date.now() + 20_000;
    while (!sessions.has(name)) {
      if (Date.now() > end || child.exitCode !== null) throw new Error(`${label}: no session`);
      await sleep(20);
    }
    const startupMs = cpuMs(child.pid);
    await sleep(settleS * 1000);
    const idle = mem(child.pid);
    const c0 = cpuMs(child.pid);
    await sleep(windowS * 1000);
    const cpuPct = ((cpuMs(child.pid) - c0) / (windowS * 1000)) * 100;
    const perTask = await runTasks(sessions.get(name), child.pid, tasks);
    await sleep(1000);
    const after = mem(child.pid);
    rows.push({ label, ...idle, cpuPct, startupMs, ...perTask, rssAfter: after.rss });
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

async function measureBare() {
  // Idle: a timer, like an agent waiting for work. Per task: spawn `sh -c true` and wait, N times.
  const script = `
    const { spawn } = require('node:child_process');
    process.stdin.once('data', async () => {
      for (let i = 0; i < ${tasks}; i++) await new Promise((r) => spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' }).once('exit', r));
      process.stdout.write('done');
    });
    setInterval(() => {}, 2000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  try {
    await sleep(settleS * 1000);
    const idle = mem(child.pid);
    const c0 = cpuMs(child.pid);
    await sleep(windowS * 1000);
    const cpuPct = ((cpuMs(child.pid) - c0) / (windowS * 1000)) * 100;
    const cpu1 = cpuMs(child.pid);
    const t0 = performance.now();
    const done = new Promise((r) => child.stdout.once('data', r));
    child.stdin.write('go');
    await done;
    const perTask = { cpuPerTask: (cpuMs(child.pid) - cpu1) / tasks, msPerTask: (performance.now() - t0) / tasks };
    rows.push({ label: 'bare node (timer; spawns sh -c true)', ...idle, cpuPct, startupMs: Number.NaN, ...perTask, rssAfter: mem(child.pid).rss });
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

console.log(
  `agent footprint, node ${process.version} ${process.arch}, ${os.cpus().length} cpus; settle ${settleS}s, cpu window ${windowS}s, ${tasks} tasks; target < 40 MB idle RSS`,
);
try {
  await measureBare();
  await measureAgent('unbundled (bin/orrery-agent.js)', [bin]);
  await measureAgent('bundle, not minified', [bundleFull]);
  await measureAgent('bundle (minified, as shipped)', [bundle]);
  await measureAgent(`bundle + service flags (${serviceFlags.join(' ')})`, [...serviceFlags, bundle]);
  await measureAgent('bundle + service flags + --lite-mode', [...serviceFlags, '--lite-mode', bundle]);
} finally {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}

const bare = rows[0];
const pad = (s, w) => String(s).padEnd(w);
const num = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '-');
console.log(
  `${pad('case', 52)}${pad('RSS MB', 8)}${pad('anon', 7)}${pad('file', 7)}${pad('xbare', 7)}${pad('idle CPU%', 10)}${pad('start ms', 9)}${pad('task CPU ms', 12)}${pad('(-bare)', 9)}${pad('task ms', 9)}RSS after`,
);
for (const r of rows) {
  console.log(
    `${pad(r.label, 52)}${pad(num(r.rss), 8)}${pad(num(r.anon), 7)}${pad(num(r.file), 7)}${pad(num(r.rss / bare.rss, 2), 7)}${pad(num(r.cpuPct, 3), 10)}${pad(num(r.startupMs, 0), 9)}${pad(num(r.cpuPerTask, 2), 12)}${pad(num(r.cpuPerTask - bare.cpuPerTask, 2), 9)}${pad(num(r.msPerTask, 1), 9)}${num(r.rssAfter)}`,
  );
}
