#!/usr/bin/env node
// Shared helpers for the end-to-end benchmarks, and the simulated-agent worker.
//
// As a library: start an orchestrator child process (`orrery server`), start
// simulated agents in other child processes, talk to the HTTP API, read a
// process's RSS and CPU time from /proc, print tables. Every child started
// here is tracked and killed on exit, on errors and on SIGINT/SIGTERM.
//
// As a program (`node sim-agent.mjs --worker`, started by startAgents over an
// IPC channel): holds many AipClient sessions to one orchestrator. Each agent
// answers every Assign at once with Accept then a SUCCEEDED Result, so the
// measured time is the orchestrator's (and the protocol's), not the agents'.
// Chain latency is taken here: time from sending the Result of one task to
// receiving the next Assign on the same agent.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '../..');
const ORRERY_BIN = join(ROOT, 'orchestrator/bin/orrery.js');
const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat times are in these ticks

// ---- child process bookkeeping ------------------------------------------------

const children = new Set();
const tempDirs = new Set();

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        // A child started as a group leader takes its own children along (Dask's workers).
        if (child.ownGroup) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    killAll();
    process.exit(1);
  });
}

/** Spawns `node <args>` under bash with a raised open-file limit; the pid is node's (exec). */
function spawnNode(nodeArgs, { ipc = false, env = {} } = {}) {
  hookExit();
  const quoted = nodeArgs.map((a) => `'${String(a).replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('bash', ['-c', `ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" ${quoted}`], {
    cwd: ROOT,
    stdio: ipc ? ['ignore', 'inherit', 'pipe', 'ipc'] : ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.stderrTail = () => stderr;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * Spawns any program as a tracked child in its own process group (so that
 * killing it also kills what it started); stdout is collected.
 */
export function spawnTracked(cmd, argv, { cwd = ROOT } = {}) {
  hookExit();
  const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.ownGroup = true;
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  children.add(child);
  const done = new Promise((resolveDone) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolveDone({ code, stdout, stderr });
    });
  });
  return { child, done };
}

export function tempDir(prefix = 'orrery-bench-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { sleep };

/** Fails if the JS was not built (run-all builds it). */
export function requireBuilt() {
  for (const f of ['protocol/dist/index.js', 'orchestrator/dist/index.js', 'orchestrator/bin/orrery.js']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`npm run build\` (or node scripts/bench/run-all.mjs) first`);
  }
}

// ---- the orchestrator -------------------------------------------------------------

/**
 * Starts `orrery server` on an ephemeral loopback port with a fresh data dir.
 * `nodeArgs` go to node itself (e.g. --cpu-prof). Resolves once server.json exists.
 */
export async function startOrchestrator({ heartbeatMs = 1000, nodeArgs = [], logLevel = 'warn', timeoutMs = 30_000 } = {}) {
  requireBuilt();
  const dataDir = tempDir('orrery-bench-data-');
  const child = spawnNode([...nodeArgs, ORRERY_BIN, 'server', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--no-auth', '--heartbeat-ms', String(heartbeatMs), '--log-level', logLevel]);
  const file = join(dataDir, 'server.json');
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (child.exitCode !== null) throw new Error(`orchestrator exited with ${child.exitCode}: ${child.stderrTail()}`);
    if (Date.now() > deadline) throw new Error(`orchestrator did not start in ${timeoutMs} ms: ${child.stderrTail()}`);
    await sleep(20);
  }
  await sleep(20); // written in one call, but give the writer a moment
  const info = JSON.parse(readFileSync(file, 'utf8'));
  return {
    url: info.url,
    aipUrl: info.aipUrl,
    pid: child.pid,
    dataDir,
    child,
    /** SIGTERM (graceful: flushes the journal, writes --cpu-prof files), SIGKILL after `graceMs`. */
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---- HTTP -----------------------------------------------------------------------

/** One JSON request; returns { status, body, ms, bytes }. Throws on non-2xx unless `allowError`. */
export async function api(base, method, path, body, { allowError = false } = {}) {
  const t0 = performance.now();
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  if (!res.ok && !allowError) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
  return { status: res.status, body: json, ms, bytes: text.length };
}

/** Polls the (cheap) summary list until the constellation reaches a terminal status. */
export async function waitForConstellation(base, id, { timeoutMs = 120_000, pollMs = 10 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(base, 'GET', '/v1/constellations');
    const c = body.items.find((x) => x.id === id);
    if (c && ['succeeded', 'failed', 'cancelled'].includes(c.status)) return c;
    if (Date.now() > deadline) throw new Error(`constellation ${id} still ${c?.status} after ${timeoutMs} ms: ${JSON.stringify(c?.counts)}`);
    await sleep(pollMs);
  }
}

/** Parses one Prometheus histogram from /metrics text: { buckets: [[le, cumulative]], sum, count }. */
export function parseHistogram(text, name) {
  const buckets = [];
  let sum = 0;
  let count = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket{le="`)) {
      const m = /le="([^"]+)"\}\s+(\S+)/.exec(line);
      if (m) buckets.push([m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]), Number(m[2])]);
    } else if (line.startsWith(`${name}_sum `)) sum = Number(line.split(' ')[1]);
    else if (line.startsWith(`${name}_count `)) count = Number(line.split(' ')[1]);
  }
  return { buckets, sum, count };
}

/** Difference of two parsed histograms (after - before). */
export function histogramDelta(after, before) {
  return {
    buckets: after.buckets.map(([le, c], i) => [le, c - (before.buckets[i]?.[1] ?? 0)]),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/** Quantile from cumulative buckets, linearly interpolated inside the bucket (as Prometheus does). */
export function histogramQuantile(h, q) {
  if (!h.count) return Number.NaN;
  const rank = q * h.count;
  let prevLe = 0;
  let prevC = 0;
  for (const [le, c] of h.buckets) {
    if (c >= rank) {
      if (!Number.isFinite(le)) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevC)) / Math.max(1, c - prevC);
    }
    prevLe = le;
    prevC = c;
  }
  return prevLe;
}

// ---- /proc ------------------------------------------------------------------------

/** Sum of CPU seconds of several live processes. */
export function cpuOf(pids) {
  let s = 0;
  for (const pid of pids) {
    try {
      s += procStats(pid).cpuSeconds;
    } catch {
      // exited
    }
  }
  return s;
}

/** { rssMb, cpuSeconds } of a live process (Linux). */
export function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is state (field 3); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssMb: rssKb / 1024, cpuSeconds: ticks / CLK_TCK };
}

// ---- simulated agents -------------------------------------------------------------

/**
 * Starts `agents` simulated agents spread over `processes` worker processes.
 * Resolves when every agent has its Welcome. Returns { stats(), stop(), pids }.
 */
export async function startAgents({ aipUrl, agents, slots = 1, processes = 1, prefix = 'sim', connectBatch = 100, timeoutMs = 120_000 }) {
  const workers = [];
  const per = Math.ceil(agents / processes);
  for (let p = 0; p < processes && p * per < agents; p++) {
    const count = Math.min(per, agents - p * per);
    const child = spawnNode([fileURLToPath(import.meta.url), '--worker'], { ipc: true });
    const w = { child, pending: new Map(), nextId: 1 };
    child.on('message', (m) => {
      const done = w.pending.get(m.id);
      if (done) {
        w.pending.delete(m.id);
        done(m);
      }
    });
    w.call = (cmd, extra = {}) =>
      new Promise((resolveCall, rejectCall) => {
        const id = w.nextId++;
        const t = setTimeout(() => rejectCall(new Error(`agent worker did not answer ${cmd} in ${timeoutMs} ms: ${child.stderrTail()}`)), timeoutMs);
        w.pending.set(id, (m) => {
          clearTimeout(t);
          if (m.error) rejectCall(new Error(m.error));
          else resolveCall(m);
        });
        child.send({ id, cmd, ...extra });
      });
    child.once('exit', (code) => {
      for (const done of w.pending.values()) done({ error: `agent worker exited with ${code}: ${child.stderrTail()}` });
      w.pending.clear();
    });
    workers.push({ w, count, first: p * per });
  }
  await Promise.all(workers.map(({ w, count, first }) => w.call('start', { aipUrl, count, first, slots, prefix, connectBatch })));
  return {
    pids: workers.map(({ w }) => w.child.pid),
    /** Sums counters over workers; latency samples (ms) are concatenated. */
    async stats({ reset = false } = {}) {
      const all = await Promise.all(workers.map(({ w }) => w.call('stats', { reset })));
      return {
        assigns: all.reduce((s, m) => s + m.assigns, 0),
        results: all.reduce((s, m) => s + m.results, 0),
        connected: all.reduce((s, m) => s + m.connected, 0),
        samples: all.flatMap((m) => m.samples),
      };
    },
    async stop() {
      await Promise.all(workers.map(({ w }) => w.call('stop').catch(() => undefined)));
      for (const { w } of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    },
  };
}

// ---- output ------------------------------------------------------------------------

export function percentile(sorted, p) {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
export const int = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

/** Prints a title and aligned rows of [label, value, note?]. */
export function printTable(title, rows) {
  const w0 = Math.max(...rows.map((r) => String(r[0]).length));
  const w1 = Math.max(...rows.map((r) => String(r[1]).length));
  console.log(`\n${title}`);
  console.log('-'.repeat(Math.min(100, title.length)));
  for (const [a, b, c] of rows) console.log(`  ${String(a).padEnd(w0)}  ${String(b).padStart(w1)}${c ? `  ${c}` : ''}`);
}

/** `--name value` / `--flag` parsing. */
export function cliArgs(argv = process.argv.slice(2)) {
  const has = (name) => argv.includes(`--${name}`);
  const num = (name, dflt) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] !== undefined ? Number(argv[i + 1]) : dflt;
  };
  return { has, num, quick: has('quick') };
}

/** Machine description for the tables. */
export async function machine() {
  const os = await import('node:os');
  const cpus = os.cpus();
  const load = os.loadavg()[0]?.toFixed(1);
  return `${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, load ${load}`;
}

// ---- worker mode -------------------------------------------------------------------

async function workerMain() {
  const { AipClient } = await import('../../protocol/dist/index.js');
  const clients = [];
  let assigns = 0;
  let results = 0;
  let samples = [];

  function makeAgent(aipUrl, name, slots) {
    const capabilities = { os: 'linux', arch: 'x64', labels: [], features: [], slots, cpus: 2, memoryMb: 1024, gpus: 0, executors: ['shell'], hostname: 'sim' };
    // Every task ends the moment it arrives, so an agent is never busy between messages.
    const running = 0;
    let lastResultAt = 0;
    const client = new AipClient({
      url: aipUrl,
      deviceId: name,
      deviceName: name,
      capabilities,
      agentVersion: 'bench-sim',
      heartbeat: () => ({ running, freeSlots: slots - running, batteryPercent: -1, thermalCelsius: -1, loadAvg: 0 }),
    });
    client.on('message', (body) => {
      if (body.type !== 'assign') return;
      const now = performance.now();
      if (lastResultAt) samples.push(now - lastResultAt);
      assigns++;
      const { constellationId, taskId, attempt } = body.value;
      const wall = Date.now();
      client.send({ type: 'accept', value: { constellationId, taskId, attempt } });
      client.send({
        type: 'result',
        value: { constellationId, taskId, attempt, outcome: 'SUCCEEDED', exitCode: 0, signal: '', outputs: {}, error: '', startedAtMs: wall, endedAtMs: wall, stdoutBytes: 0, stderrBytes: 0 },
      });
      results++;
      lastResultAt = performance.now();
    });
    client.on('fatal', (code, message) => process.stderr.write(`agent ${name}: fatal ${code} ${message}\n`));
    return client;
  }

  async function start({ aipUrl, count, first, slots, prefix, connectBatch }) {
    for (let i = 0; i < count; i += connectBatch) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + connectBatch); j++) {
        const c = makeAgent(aipUrl, `${prefix}-${first + j}`, slots);
        clients.push(c);
        batch.push(new Promise((r) => c.once('welcome', r)));
        c.start();
      }
      await Promise.all(batch);
    }
  }

  process.on('message', async (m) => {
    try {
      if (m.cmd === 'start') {
        await start(m);
        process.send({ id: m.id, ok: true });
      } else if (m.cmd === 'stats') {
        const out = { id: m.id, assigns, results, connected: clients.filter((c) => c.connected).length, samples };
        if (m.reset) {
          samples = [];
          assigns = 0;
          results = 0;
        }
        process.send(out);
      } else if (m.cmd === 'stop') {
        await Promise.race([Promise.all(clients.map((c) => c.stop('bench over').catch(() => undefined))), sleep(5000)]);
        process.send({ id: m.id, ok: true }, () => process.exit(0));
      }
    } catch (err) {
      process.send({ id: m.id, error: String(err?.stack ?? err) });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--worker')) {
  await workerMain();
}
