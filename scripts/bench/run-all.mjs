#!/usr/bin/env node
// Runs every benchmark in scripts/bench, one after the other, and prints their
// figures. Builds the TypeScript packages first when their output is missing.
//
//   node scripts/bench/run-all.mjs [--full] [--only a,b] [--skip a,b] [--build]
//   npm run bench
//
// Default is quick mode (each benchmark's small sizes); --full runs the
// sizes DESIGN.md's targets are stated for (takes several minutes). Any other
// .mjs file added to scripts/bench is run too, with no arguments.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const argv = process.argv.slice(2);
const full = argv.includes('--full');
const listArg = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? (argv[i + 1] ?? '').split(',').filter(Boolean) : undefined;
};
const only = listArg('only');
const skip = listArg('skip') ?? [];

// Quick/full arguments per benchmark; anything not listed runs with none.
const ARGS = {
  'dispatch-throughput': { quick: ['--quick'], full: [] },
  'big-dag': { quick: ['--quick'], full: [] },
  'many-agents': { quick: ['--quick'], full: [] },
  'dask-compare': { quick: ['--quick'], full: [] },
  'aip-latency': { quick: ['--rtt', '2000', '--msgs', '20000'], full: [] },
  'journal-throughput': { quick: ['--seconds', '1'], full: [] },
  makespan: { quick: [], full: ['--seeds', '5'] },
  'agent-idle-rss': { quick: ['3'], full: [] },
  'executor-overhead': { quick: ['--n', '10'], full: ['--n', '40'] },
  'agent-footprint': { quick: ['4', '6', '20'], full: [] },
  'aip-sessions': { quick: ['--agents', '1000'], full: [] },
  'artifact-transfer': { quick: ['--mb', '16'], full: ['--mb', '64', '--transport', 'both'] },
  planner: { quick: ['--quick'], full: [] },
};
// Helpers, not benchmarks.
const HELPERS = new Set(['run-all', 'sim-agent', 'journal-store-loader']);
// Cheap ones first, so a quick run shows figures early.
const ORDER = ['aip-latency', 'aip-sessions', 'artifact-transfer', 'journal-throughput', 'makespan', 'agent-idle-rss', 'agent-footprint', 'dispatch-throughput', 'big-dag', 'many-agents', 'dask-compare'];

function ensureBuilt() {
  const outputs = ['protocol/dist/index.js', 'orchestrator/dist/index.js', 'device-agent/dist'];
  if (!argv.includes('--build') && outputs.every((f) => existsSync(join(ROOT, f)))) return;
  console.log('building protocol, orchestrator, device-agent (tsc -b)...');
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', 'protocol', 'orchestrator', 'device-agent'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('build failed');
    process.exit(1);
  }
}

function benches() {
  const names = readdirSync(here)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => f.slice(0, -4))
    .filter((n) => !HELPERS.has(n) && !n.endsWith('-loader'));
  const rank = (n) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).filter((n) => (!only || only.includes(n)) && !skip.includes(n));
}

let current;
const stopCurrent = () => {
  if (current && current.exitCode === null) current.kill('SIGTERM');
};
process.on('SIGINT', () => {
  stopCurrent();
  process.exit(130);
});
process.on('SIGTERM', () => {
  stopCurrent();
  process.exit(143);
});

function run(name) {
  const a = ARGS[name]?.[full ? 'full' : 'quick'] ?? [];
  return new Promise((resolveRun) => {
    const t0 = performance.now();
    console.log(`\n=== ${name} ${a.join(' ')}`.trimEnd());
    current = spawn(process.execPath, [join(here, `${name}.mjs`), ...a], { cwd: ROOT, stdio: 'inherit' });
    // A benchmark that hangs must not hang the whole run.
    const limit = setTimeout(() => current.kill('SIGKILL'), (full ? 30 : 5) * 60_000);
    current.once('exit', (code, signal) => {
      clearTimeout(limit);
      resolveRun({ name, code: code ?? signal, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

ensureBuilt();
const results = [];
for (const name of benches()) results.push(await run(name));
console.log(`\n=== summary (${full ? 'full' : 'quick'} mode)`);
for (const r of results) console.log(`  ${r.name.padEnd(22)} ${r.code === 0 ? 'ok    ' : `FAILED (${r.code})`} ${r.seconds.toFixed(1)} s`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
