#!/usr/bin/env node
// Memory cost of connected AIP sessions on the orchestrator side.
//   npx tsc -b protocol && node scripts/bench/aip-sessions.mjs [--agents 2000] [--transport ws|grpc]
// The AipServer runs in a child process (so its RSS is its own); this
// process opens N agent sessions that heartbeat every 2 s, then asks the
// server for its RSS and heap. Reports the cost per session and the
// extrapolation to 10,000 agents (design target: orchestrator RSS < 1 GiB).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AipClient } from '../../protocol/dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

if (process.argv[2] === '--child') {
  const { AipServer } = await import('../../protocol/dist/index.js');
  const transport = process.argv[3];
  const server = new AipServer({ authenticate: (h) => ({ ok: true, deviceId: h.deviceId }), heartbeatIntervalMs: 2000 });
  const port = transport === 'grpc' ? await server.listenGrpc('127.0.0.1', 0) : await server.listenWebSocket('127.0.0.1', 0);
  process.on('message', async (msg) => {
    if (msg === 'measure') {
      globalThis.gc?.();
      const m = process.memoryUsage();
      process.send({ rss: m.rss, heap: m.heapUsed, sessions: server.allSessions().filter((s) => s.connected).length });
    } else if (msg === 'exit') {
      await server.close();
      process.exit(0);
    }
  });
  process.send({ port });
} else {
  const agents = Number(arg('agents', 2000));
  const transport = arg('transport', 'ws');
  const child = fork(fileURLToPath(import.meta.url), ['--child', transport], { execArgv: ['--expose-gc'] });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();
  const url = transport === 'grpc' ? `grpc://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/v1/aip`;
  child.send('measure');
  const base = await next();
  const capabilities = { os: 'linux', arch: 'x64', labels: ['sim'], features: [], slots: 4, cpus: 4, memoryMb: 8192, gpus: 0, executors: ['shell'], hostname: 'sim' };
  const clients = [];
  const t0 = Date.now();
  for (let i = 0; i < agents; i++) {
    const c = new AipClient({ url, deviceId: `sim-${i}`, deviceName: `sim-${i}`, capabilities, connectTimeoutMs: 30_000 });
    c.start();
    clients.push(c);
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 20)); // do not SYN-flood the backlog
  }
  const deadline = Date.now() + 120_000;
  while (clients.some((c) => !c.connected) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const connectSeconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 3000)); // a round of heartbeats
  child.send('measure');
  const loaded = await next();
  const perSession = (loaded.rss - base.rss) / loaded.sessions;
  const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`;
  console.log(
    `AIP sessions (${transport}): ${loaded.sessions}/${agents} connected in ${connectSeconds.toFixed(1)} s; ` +
      `server RSS ${mib(base.rss)} -> ${mib(loaded.rss)}, heap ${mib(base.heap)} -> ${mib(loaded.heap)}; ` +
      `${(perSession / 1024).toFixed(1)} KiB RSS per session; 10,000 sessions ≈ ${mib(base.rss + perSession * 10_000)}`,
  );
  await Promise.all(clients.map((c) => c.stop()));
  child.send('exit');
}
