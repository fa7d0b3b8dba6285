#!/usr/bin/env node
// Dispatch latency and throughput of a live orchestrator on loopback, with the
// durable journal on (the default). The orchestrator runs as `orrery server`
// in one child process, the simulated agents (sim-agent.mjs) in another, so
// the figures are the orchestrator's.
//
//   node scripts/bench/dispatch-throughput.mjs [--quick] [--chain 2000] [--wide 20000]
//        [--chains 100] [--chain-len 200] [--agents 4] [--slots 64] [--repeat 1] [--cpu-prof <dir>] [--json]
//
// (a) latency: a chain of tasks on one agent with one slot, so each task is
//     ready only once its predecessor's Result is in. Measured at the agent:
//     Result of task i sent -> Assign of task i+1 received (result handling,
//     ready, placement, journal commit, Assign encode and delivery). The
//     server's own ready->Assign-sent histogram is read from /metrics too.
// (b) throughput: a wide DAG of no-op tasks and a set of parallel chains on
//     4 agents x 64 slots, from POST (submit) to the constellation succeeded.
//     --repeat N runs it N times, each on a fresh orchestrator, and shows the
//     run with the median wide-DAG rate plus the spread (the box is noisy).
// --cpu-prof <dir>: runs the throughput orchestrator under `node --cpu-prof`,
//     writes the .cpuprofile there and prints the top self-time functions and
//     files (see docs/benchmarks.md for a summary).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  api,
  cliArgs,
  cpuOf,
  fmt,
  histogramDelta,
  histogramQuantile,
  int,
  machine,
  parseHistogram,
  percentile,
  printTable,
  procStats,
  ROOT,
  startAgents,
  startOrchestrator,
  waitForConstellation,
} from './sim-agent.mjs';

const args = cliArgs();
const quick = args.quick;
const CHAIN = args.num('chain', quick ? 500 : 2000);
const WIDE = args.num('wide', quick ? 5000 : 20_000);
const CHAINS = args.num('chains', quick ? 25 : 100);
const CHAIN_LEN = args.num('chain-len', quick ? 100 : 200);
const AGENTS = args.num('agents', 4);
const REPEAT = Math.max(1, Math.min(10, args.num('repeat', 1)));
const POLL_MS = args.num('poll-ms', 50);
const SLOTS = args.num('slots', 64);
const profIdx = process.argv.indexOf('--cpu-prof');
const PROF_DIR = profIdx >= 0 ? process.argv[profIdx + 1] : undefined;

function chainGraph(name, n, prefix = 't') {
  const tasks = {};
  for (let i = 0; i < n; i++) tasks[`${prefix}${i}`] = i === 0 ? { run: 'true' } : { needs: [`${prefix}${i - 1}`], run: 'true' };
  return { name, tasks };
}

function wideGraph(name, n) {
  const tasks = {};
  for (let i = 0; i < n; i++) tasks[`t${i}`] = { run: 'true' };
  return { name, tasks };
}

function chainsGraph(name, chains, len) {
  const tasks = {};
  for (let c = 0; c < chains; c++) {
    for (let i = 0; i < len; i++) tasks[`c${c}-${i}`] = i === 0 ? { run: 'true' } : { needs: [`c${c}-${i - 1}`], run: 'true' };
  }
  return { name, tasks };
}

async function metrics(url) {
  const { body } = await api(url, 'GET', '/metrics');
  return { dispatch: parseHistogram(body, 'orrery_dispatch_latency_seconds'), commit: parseHistogram(body, 'orrery_journal_commit_seconds') };
}

/** Submits a graph and waits for it to succeed; returns wall ms from submit, and the POST's own ms. */
async function runGraph(url, graph) {
  const t0 = performance.now();
  const post = await api(url, 'POST', '/v1/constellations', graph);
  const done = await waitForConstellation(url, post.body.id, { timeoutMs: 300_000, pollMs: POLL_MS });
  const ms = performance.now() - t0;
  if (done.status !== 'succeeded') throw new Error(`${graph.name} ended ${done.status}: ${JSON.stringify(done.counts)}`);
  return { ms, postMs: post.ms };
}

async function latency() {
  const orch = await startOrchestrator();
  const agents = await startAgents({ aipUrl: orch.aipUrl, agents: 1, slots: 1, prefix: 'lat' });
  try {
    await runGraph(orch.url, chainGraph('warmup', 200));
    await agents.stats({ reset: true });
    const before = await metrics(orch.url);
    const run = await runGraph(orch.url, chainGraph('chain', CHAIN));
    const after = await metrics(orch.url);
    const st = await agents.stats({ reset: true });
    const samples = st.samples.sort((a, b) => a - b);
    const server = histogramDelta(after.dispatch, before.dispatch);
    const commit = histogramDelta(after.commit, before.commit);
    return {
      chain: CHAIN,
      samples: samples.length,
      agentP50: percentile(samples, 50),
      agentP90: percentile(samples, 90),
      agentP99: percentile(samples, 99),
      agentMax: samples[samples.length - 1],
      agentMean: samples.reduce((s, x) => s + x, 0) / Math.max(1, samples.length),
      serverP50: histogramQuantile(server, 0.5) * 1000,
      serverP99: histogramQuantile(server, 0.99) * 1000,
      serverMean: (server.sum / Math.max(1, server.count)) * 1000,
      commitP50: histogramQuantile(commit, 0.5) * 1000,
      commitP99: histogramQuantile(commit, 0.99) * 1000,
      commitMean: (commit.sum / Math.max(1, commit.count)) * 1000,
      commits: commit.count,
      chainTasksPerSec: CHAIN / (run.ms / 1000),
    };
  } finally {
    await agents.stop();
    await orch.stop();
  }
}

async function throughput(run) {
  // Only the first repetition is profiled: one profile, one orchestrator lifetime.
  const orch = await startOrchestrator({ nodeArgs: PROF_DIR && run === 0 ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR] : [] });
  const agents = await startAgents({ aipUrl: orch.aipUrl, agents: AGENTS, slots: SLOTS, prefix: 'tp' });
  try {
    await runGraph(orch.url, wideGraph('warmup', 1000));
    const cpu0 = procStats(orch.pid).cpuSeconds;
    const a0 = cpuOf(agents.pids);
    const before = await metrics(orch.url);
    const wide = await runGraph(orch.url, wideGraph('wide', WIDE));
    const cpu1 = procStats(orch.pid).cpuSeconds;
    const a1 = cpuOf(agents.pids);
    const chains = await runGraph(orch.url, chainsGraph('chains', CHAINS, CHAIN_LEN));
    const cpu2 = procStats(orch.pid).cpuSeconds;
    const a2 = cpuOf(agents.pids);
    const after = await metrics(orch.url);
    const commit = histogramDelta(after.commit, before.commit);
    const rss = procStats(orch.pid).rssMb;
    return {
      wide: WIDE,
      wideMs: wide.ms,
      widePostMs: wide.postMs,
      wideRate: WIDE / (wide.ms / 1000),
      wideCpu: ((cpu1 - cpu0) / (wide.ms / 1000)) * 100,
      wideAgentCpu: ((a1 - a0) / (wide.ms / 1000)) * 100,
      widePerCpuSec: WIDE / Math.max(0.01, cpu1 - cpu0),
      chainsAgentCpu: ((a2 - a1) / (chains.ms / 1000)) * 100,
      chainsPerCpuSec: (CHAINS * CHAIN_LEN) / Math.max(0.01, cpu2 - cpu1),
      chainsN: CHAINS * CHAIN_LEN,
      chainsMs: chains.ms,
      chainsRate: (CHAINS * CHAIN_LEN) / (chains.ms / 1000),
      chainsCpu: ((cpu2 - cpu1) / (chains.ms / 1000)) * 100,
      commits: commit.count,
      commitMean: (commit.sum / Math.max(1, commit.count)) * 1000,
      rss,
    };
  } finally {
    await agents.stop();
    await orch.stop();
  }
}

/** Sums self time per function (name + url + line) over every .cpuprofile in `dir`. */
function summariseProfiles(dir, n) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const self = new Map();
  const byFile = new Map();
  let totalMs = 0;
  for (const f of files) {
    const prof = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    const byId = new Map(prof.nodes.map((node) => [node.id, node]));
    const deltas = prof.timeDeltas;
    for (let i = 0; i < prof.samples.length; i++) {
      const node = byId.get(prof.samples[i]);
      // A sample's time is the delta to the next sample.
      const ms = (deltas[i + 1] ?? 0) / 1000;
      const cf = node.callFrame;
      const url = cf.url.startsWith('file://') ? relative(ROOT, fileURLToPath(cf.url)) : cf.url;
      const key = `${cf.functionName || '(anonymous)'}\u0000${url}${url ? `:${cf.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + ms);
      const file = url || cf.functionName;
      byFile.set(file, (byFile.get(file) ?? 0) + ms);
      totalMs += ms;
    }
  }
  const idleMs = self.get('(idle)\u0000') ?? 0;
  const gcMs = self.get('(garbage collector)\u0000') ?? 0;
  const busy = totalMs - idleMs;
  const rows = [...self]
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => {
      const [name, where] = k.split('\u0000');
      return { name, where, ms, pctBusy: (ms / Math.max(1e-9, busy)) * 100 };
    });
  const fileRows = [...byFile]
    .filter(([f]) => f !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([file, ms]) => ({ file, ms, pctBusy: (ms / Math.max(1e-9, busy)) * 100 }));
  return { files: files.length, totalMs, idleMs, gcMs, rows, fileRows };
}

const lat = await latency();
const runs = [];
for (let i = 0; i < REPEAT; i++) runs.push(await throughput(i));
const byWide = [...runs].sort((a, b) => a.wideRate - b.wideRate);
const tp = byWide[Math.floor((byWide.length - 1) / 2)];
const spread = (key) => {
  const v = runs.map((r) => r[key]).sort((a, b) => a - b);
  return `${int(v[0])} / ${int(v[Math.floor((v.length - 1) / 2)])} / ${int(v[v.length - 1])}`;
};

printTable(`Dispatch latency: chain of ${int(lat.chain)} tasks, 1 agent x 1 slot, loopback, durable journal (${await machine()})`, [
  ['agent-side Result->next Assign p50', `${fmt(lat.agentP50, 3)} ms`, 'target <= 0.5 ms (ready->dispatch)'],
  ['agent-side Result->next Assign p90', `${fmt(lat.agentP90, 3)} ms`],
  ['agent-side Result->next Assign p99', `${fmt(lat.agentP99, 3)} ms`, 'target <= 2 ms'],
  ['agent-side Result->next Assign max', `${fmt(lat.agentMax, 3)} ms`],
  ['agent-side mean', `${fmt(lat.agentMean, 3)} ms`, `${int(lat.samples)} samples`],
  ['server ready->Assign sent p50 (histogram)', `${fmt(lat.serverP50, 3)} ms`, 'interpolated in buckets'],
  ['server ready->Assign sent p99 (histogram)', `${fmt(lat.serverP99, 3)} ms`],
  ['server ready->Assign sent mean', `${fmt(lat.serverMean, 3)} ms`],
  ['journal commit p50 / p99 / mean', `${fmt(lat.commitP50, 3)} / ${fmt(lat.commitP99, 3)} / ${fmt(lat.commitMean, 3)} ms`, `${int(lat.commits)} commits`],
  ['chain rate', `${int(lat.chainTasksPerSec)} tasks/s`, 'one task in flight at a time'],
]);

printTable(`Throughput: ${AGENTS} agents x ${SLOTS} slots, no-op tasks, submit -> succeeded, durable journal${REPEAT > 1 ? ` (median of ${REPEAT} runs)` : ''}`, [
  [`wide DAG, ${int(tp.wide)} independent tasks`, `${int(tp.wideRate)} tasks/s`, `${fmt(tp.wideMs / 1000, 2)} s (POST ${fmt(tp.widePostMs, 0)} ms); target >= 20,000 tasks/s`],
  ['  orchestrator CPU during it', `${fmt(tp.wideCpu, 0)} %`, `100 % = one core; agent process ${fmt(tp.wideAgentCpu, 0)} %`],
  ['  tasks per orchestrator CPU-second', `${int(tp.widePerCpuSec)} tasks/s`, 'the rate one whole core would give'],
  [`${CHAINS} chains x ${CHAIN_LEN}`, `${int(tp.chainsRate)} tasks/s`, `${fmt(tp.chainsMs / 1000, 2)} s`],
  ['  orchestrator CPU during it', `${fmt(tp.chainsCpu, 0)} %`, `agent process ${fmt(tp.chainsAgentCpu, 0)} %`],
  ['  tasks per orchestrator CPU-second', `${int(tp.chainsPerCpuSec)} tasks/s`],
  ['journal commits (both runs), mean', `${fmt(tp.commitMean, 3)} ms`, `${int(tp.commits)} commits`],
  ['orchestrator RSS after', `${fmt(tp.rss, 0)} MiB`],
  ...(REPEAT > 1
    ? [
        [`wide tasks/s over ${REPEAT} runs, min / median / max`, spread('wideRate')],
        ['wide tasks per CPU-second, min / median / max', spread('widePerCpuSec')],
        ['chains tasks/s, min / median / max', spread('chainsRate')],
        ['chains tasks per CPU-second, min / median / max', spread('chainsPerCpuSec')],
      ]
    : []),
]);

if (PROF_DIR) {
  const top = summariseProfiles(PROF_DIR, 15);
  printTable(`CPU profile of the orchestrator (${top.files} .cpuprofile files in ${PROF_DIR}), top self time`, [
    ['total sampled', `${fmt(top.totalMs, 0)} ms`, `idle ${fmt(top.idleMs, 0)} ms, GC ${fmt(top.gcMs, 0)} ms`],
    ...top.rows.map((r) => [r.name, `${fmt(r.ms, 0)} ms`, `${fmt(r.pctBusy, 1)} % of busy  ${r.where}`]),
  ]);
  printTable('Self time by file (whole orchestrator lifetime, startup included)', top.fileRows.map((r) => [r.file, `${fmt(r.ms, 0)} ms`, `${fmt(r.pctBusy, 1)} %`]));
}

if (args.has('json')) console.log(JSON.stringify({ bench: 'dispatch-throughput', latency: lat, throughput: tp, runs }));
process.exit(0);
