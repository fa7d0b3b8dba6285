#!/usr/bin/env node
// Many connected agents: N simulated agents (AipClient sessions over WebSocket,
// spread over several worker processes) connect to one orchestrator with
// heartbeats every 2 s. After all are connected and a settling pause, the
// orchestrator's RSS and CPU% are sampled over 10 s of steady heartbeats.
// Target (DESIGN.md): RSS < 1 GiB at 10,000 agents.
//
//   node scripts/bench/many-agents.mjs [--quick] [--counts 1000,10000] [--window 10] [--per-process 2500] [--json]
import { performance } from 'node:perf_hooks';
import { api, cliArgs, fmt, int, machine, printTable, procStats, sleep, startAgents, startOrchestrator } from './sim-agent.mjs';

const args = cliArgs();
const countsArg = process.argv.includes('--counts') ? process.argv[process.argv.indexOf('--counts') + 1] : undefined;
const COUNTS = countsArg ? countsArg.split(',').map(Number) : args.quick ? [1000] : [1000, 10_000];
const WINDOW_S = args.num('window', args.quick ? 5 : 10);
const PER_PROCESS = args.num('per-process', 2500);
const HEARTBEAT_MS = 2000;

async function measure(n) {
  const orch = await startOrchestrator({ heartbeatMs: HEARTBEAT_MS });
  let agents;
  try {
    await sleep(300);
    const idle = procStats(orch.pid);
    const t0 = performance.now();
    agents = await startAgents({ aipUrl: orch.aipUrl, agents: n, slots: 4, processes: Math.max(1, Math.ceil(n / PER_PROCESS)), prefix: `m${n}`, connectBatch: 200, timeoutMs: 300_000 });
    const connectS = (performance.now() - t0) / 1000;
    await sleep(HEARTBEAT_MS * 1.5); // let every agent send at least one heartbeat
    const devices = await api(orch.url, 'GET', '/v1/devices');
    const online = devices.body.items.filter((d) => d.status === 'online').length;
    const a = procStats(orch.pid);
    const t1 = performance.now();
    let peak = a.rssMb;
    for (let i = 0; i < WINDOW_S * 4; i++) {
      await sleep(250);
      peak = Math.max(peak, procStats(orch.pid).rssMb);
    }
    const b = procStats(orch.pid);
    const wallS = (performance.now() - t1) / 1000;
    const st = await agents.stats();
    return {
      agents: n,
      processes: agents.pids.length,
      connectS,
      online,
      connected: st.connected,
      idleRss: idle.rssMb,
      rss: b.rssMb,
      peakRss: peak,
      cpuPct: ((b.cpuSeconds - a.cpuSeconds) / wallS) * 100,
      perAgentKb: ((b.rssMb - idle.rssMb) * 1024) / n,
    };
  } finally {
    await agents?.stop();
    await orch.stop();
  }
}

const results = [];
for (const n of COUNTS) results.push(await measure(n));

const rows = [];
for (const r of results) {
  rows.push(
    [`${int(r.agents)} agents: connect all (${r.processes} agent processes)`, `${fmt(r.connectS, 1)} s`, `${int(r.online)} online in /v1/devices, ${int(r.connected)} connected at the agents`],
    [`${int(r.agents)} agents: orchestrator RSS (end of window)`, `${fmt(r.rss, 0)} MiB`, `${r.agents >= 10_000 ? 'target < 1024 MiB; ' : ''}peak ${fmt(r.peakRss, 0)}, idle before ${fmt(r.idleRss, 0)} MiB`],
    [`${int(r.agents)} agents: RSS per agent`, `${fmt(r.perAgentKb, 1)} KiB`],
    [`${int(r.agents)} agents: orchestrator CPU, steady heartbeats`, `${fmt(r.cpuPct, 1)} %`, `over ${WINDOW_S} s; 100 % = one core; ${int(r.agents / (HEARTBEAT_MS / 1000))} heartbeats/s`],
  );
}
printTable(`Many agents over WebSocket, heartbeat every ${HEARTBEAT_MS} ms (${await machine()})`, rows);
if (args.has('json')) console.log(JSON.stringify({ bench: 'many-agents', heartbeatMs: HEARTBEAT_MS, windowS: WINDOW_S, results }));
process.exit(0);
