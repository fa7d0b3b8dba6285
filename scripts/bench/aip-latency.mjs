#!/usr/bin/env node
// AIP round-trip latency and throughput on loopback, per transport.
//   npx tsc -b protocol && node scripts/bench/aip-latency.mjs [--rtt 5000] [--msgs 100000]
// Round trip: the orchestrator sends Assign, the agent answers Accept as soon
// as it sees it; one at a time, so the figure is pure protocol + transport
// latency (encode, frame, syscalls, decode, seq/ack). Throughput: the agent
// streams Progress messages as fast as the session accepts them and the
// clock stops when the receiving side has delivered the last one; both
// directions are measured (agent->orchestrator: Progress, orchestrator->agent:
// LeaseRenewal). CPU per message counts both ends (one process).
import { performance } from 'node:perf_hooks';
import { AipClient, AipServer } from '../../protocol/dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const RTT_N = arg('rtt', 5000);
const MSGS = arg('msgs', 100_000);
const WARMUP = 500;

const capabilities = {
  os: 'linux', arch: 'x64', labels: [], features: [], slots: 1, cpus: 1,
  memoryMb: 0, gpus: 0, executors: ['shell'], hostname: 'bench',
};

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function open(transport) {
  const server = new AipServer({ authenticate: (h) => ({ ok: true, deviceId: h.deviceId }), heartbeatIntervalMs: 5000 });
  const port = transport === 'ws' ? await server.listenWebSocket('127.0.0.1', 0) : await server.listenGrpc('127.0.0.1', 0);
  const url = transport === 'ws' ? `ws://127.0.0.1:${port}/v1/aip` : `grpc://127.0.0.1:${port}`;
  const client = new AipClient({ url, deviceId: 'bench', deviceName: 'bench', capabilities });
  const session = await new Promise((resolve) => {
    server.once('session', resolve);
    client.start();
  });
  while (!client.connected) await new Promise((r) => setTimeout(r, 1));
  return { server, client, session };
}

async function roundTrips(transport) {
  const { server, client, session } = await open(transport);
  client.on('message', (b) => {
    if (b.type === 'assign') client.send({ type: 'accept', value: { constellationId: b.value.constellationId, taskId: b.value.taskId, attempt: b.value.attempt } });
  });
  const samples = [];
  let resolveOne;
  session.on('message', () => resolveOne());
  const assign = (i) => ({
    type: 'assign',
    value: {
      constellationId: 'bench', taskId: `t${i}`, attempt: 1, leaseMs: 6000, timeoutMs: 0,
      executor: { kind: 'shell', command: 'true', env: {}, cwd: '', argsJson: '' }, inputs: {}, outputs: [],
    },
  });
  for (let i = 0; i < WARMUP + RTT_N; i++) {
    const t0 = performance.now();
    await new Promise((resolve) => {
      resolveOne = resolve;
      session.send(assign(i));
    });
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  await client.stop();
  await server.close();
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1] };
}

async function throughput(transport, direction) {
  const { server, client, session } = await open(transport);
  const toServer = direction === 'up';
  let received = 0;
  let done;
  const finished = new Promise((resolve) => {
    done = resolve;
  });
  (toServer ? session : client).on('message', () => {
    if (++received === MSGS) done();
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // Send in slices so the event loop also runs the receiving side (one process).
  let sent = 0;
  while (sent < MSGS) {
    const end = Math.min(MSGS, sent + 500);
    for (; sent < end; sent++) {
      if (toServer) {
        client.send({ type: 'progress', value: { constellationId: 'bench', taskId: 't', attempt: 1, fraction: sent / MSGS, message: '' } });
      } else {
        session.send({ type: 'leaseRenewal', value: { constellationId: 'bench', taskId: 't', attempt: 1, leaseMs: 6000 } });
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await client.stop();
  await server.close();
  return { perSecond: MSGS / seconds, cpuUsPerMsg: (cpu.user + cpu.system) / MSGS };
}

const fmt = (ms) => `${(ms * 1000).toFixed(0)} µs`;
const [load1] = (await import('node:os')).loadavg();
console.log(`AIP loopback benchmark (node ${process.version}, ${RTT_N} round trips, ${MSGS} one-way messages; client and server in one process; load average ${load1.toFixed(1)})`);
const rate = (r) => `${Math.round(r.perSecond).toLocaleString('en-US')} msgs/s (${r.cpuUsPerMsg.toFixed(1)} µs CPU/msg)`;
for (const transport of ['ws', 'grpc']) {
  const rtt = await roundTrips(transport);
  const up = await throughput(transport, 'up');
  const down = await throughput(transport, 'down');
  console.log(
    `${transport.padEnd(5)} round trip p50 ${fmt(rtt.p50)}  p99 ${fmt(rtt.p99)}  max ${fmt(rtt.max)}  |  ` +
      `agent->orch ${rate(up)}  |  orch->agent ${rate(down)}`,
  );
}
