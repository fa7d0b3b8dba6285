#!/usr/bin/env node
// Orrery vs Dask distributed on the same no-op DAG shapes, same machine, one
// after the other (never at the same time).
//   Dask: LocalCluster, 4 worker processes x 1 thread (scripts/bench/dask_noop.py,
//         Debian's python3-distributed under /usr/bin/python3; installed with
//         apt-get if missing).
//   Orrery: `orrery server` (durable journal) + 4 simulated agents in one
//         child process, once with 1 slot each (the same concurrency as Dask's
//         4 threads) and once with 64 slots each (agents hold a queue, as Dask
//         workers do).
// Figures: tasks/s from submit to all done, wall time per task, ratio.
//
//   node scripts/bench/dask-compare.mjs [--quick] [--wide 5000] [--chains 50] [--chain-len 100] [--json]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { api, cliArgs, fmt, int, machine, printTable, spawnTracked, startAgents, startOrchestrator, waitForConstellation } from './sim-agent.mjs';

const args = cliArgs();
const WIDE = args.num('wide', args.quick ? 1000 : 5000);
const CHAINS = args.num('chains', args.quick ? 10 : 50);
const CHAIN_LEN = args.num('chain-len', args.quick ? 50 : 100);
const PY = '/usr/bin/python3';
const SHAPES = [
  { key: `wide:${WIDE}`, label: `${int(WIDE)} independent tasks`, tasks: WIDE },
  { key: `chains:${CHAINS}:${CHAIN_LEN}`, label: `${CHAINS} chains x ${CHAIN_LEN}`, tasks: CHAINS * CHAIN_LEN },
];

function ensureDask() {
  const probe = spawnSync(PY, ['-c', 'import distributed'], { stdio: 'ignore' });
  if (probe.status === 0) return true;
  console.log('python3-distributed is missing: installing it with apt-get (needs root)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const up = spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env, timeout: 300_000 });
  const inst = up.status === 0 ? spawnSync('apt-get', ['install', '-y', '-q', 'python3-distributed'], { stdio: 'inherit', env, timeout: 600_000 }) : up;
  return inst.status === 0 && spawnSync(PY, ['-c', 'import distributed'], { stdio: 'ignore' }).status === 0;
}

async function runDask() {
  const script = fileURLToPath(new URL('./dask_noop.py', import.meta.url));
  const { done } = spawnTracked(PY, [script, ...SHAPES.map((s) => s.key)]);
  const { code, stdout, stderr } = await done;
  if (code !== 0) throw new Error(`dask_noop.py exited with ${code}: ${stderr}`);
  const out = new Map();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line);
    out.set(r.shape, r.seconds);
  }
  return out;
}

function graphFor(shape) {
  const tasks = {};
  const [kind, a, b] = shape.split(':');
  if (kind === 'wide') for (let i = 0; i < Number(a); i++) tasks[`t${i}`] = { run: 'true' };
  else {
    for (let c = 0; c < Number(a); c++) {
      for (let i = 0; i < Number(b); i++) tasks[`c${c}-${i}`] = i === 0 ? { run: 'true' } : { needs: [`c${c}-${i - 1}`], run: 'true' };
    }
  }
  return { name: shape.replace(/:/g, '-'), tasks };
}

async function runOrrery(slots) {
  const orch = await startOrchestrator();
  const agents = await startAgents({ aipUrl: orch.aipUrl, agents: 4, slots, prefix: `s${slots}` });
  const out = new Map();
  try {
    const warm = await api(orch.url, 'POST', '/v1/constellations', graphFor('wide:500'));
    await waitForConstellation(orch.url, warm.body.id, { pollMs: 20 });
    for (const s of SHAPES) {
      const t0 = performance.now();
      const post = await api(orch.url, 'POST', '/v1/constellations', graphFor(s.key));
      const c = await waitForConstellation(orch.url, post.body.id, { pollMs: 20, timeoutMs: 600_000 });
      if (c.status !== 'succeeded') throw new Error(`${s.key} ended ${c.status}`);
      out.set(s.key, (performance.now() - t0) / 1000);
    }
  } finally {
    await agents.stop();
    await orch.stop();
  }
  return out;
}

const haveDask = ensureDask();
const dask = haveDask ? await runDask() : new Map();
const o1 = await runOrrery(1);
const o64 = await runOrrery(64);

const rows = [];
for (const s of SHAPES) {
  const d = dask.get(s.key);
  const a = o1.get(s.key);
  const b = o64.get(s.key);
  const rate = (sec) => (sec ? `${int(s.tasks / sec)} tasks/s` : 'n/a');
  const per = (sec) => (sec ? `${fmt((sec * 1e6) / s.tasks, 0)} us/task` : '');
  rows.push(
    [`${s.label}: Dask 4 workers x 1 thread`, rate(d), per(d)],
    [`${s.label}: Orrery 4 agents x 1 slot`, rate(a), `${per(a)}${d ? `; ${fmt(d / a, 2)}x Dask` : ''}`],
    [`${s.label}: Orrery 4 agents x 64 slots`, rate(b), `${per(b)}${d ? `; ${fmt(d / b, 2)}x Dask` : ''}`],
  );
}
printTable(`Orrery vs Dask distributed ${haveDask ? '' : '(Dask not available) '}on no-op DAGs, submit -> all done (${await machine()})`, rows);
if (args.has('json')) console.log(JSON.stringify({ bench: 'dask-compare', shapes: SHAPES.map((s) => ({ ...s, dask: dask.get(s.key), orrery1: o1.get(s.key), orrery64: o64.get(s.key) })) }));
process.exit(0);
