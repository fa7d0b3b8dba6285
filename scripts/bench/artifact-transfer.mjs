#!/usr/bin/env node
// Artifact transfer throughput over a real AIP session on loopback.
//   npx tsc -b protocol && node scripts/bench/artifact-transfer.mjs [--mb 64] [--transport ws|grpc|both]
//     [--chunk-kib 256] [--window-kib 2048] [--json]
// Upload: the agent offers a blob of random bytes, the orchestrator pulls it
// (256 KiB chunks, 2 MiB credit, sha256 per chunk and for the whole blob,
// temp file + fsync + rename). Download: a fresh agent store pulls it back.
// The clock stops when the receiver has stored the blob durably. While each
// transfer runs, a reliable message goes the other way every 50 ms and its
// delivery time is recorded: the transfer must not hold it up.
// Baseline: the same file streamed raw over one loopback HTTP response
// (read, hash on arrival, write, fsync) — what the chunked, checked,
// flow-controlled protocol costs against a plain byte stream.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, fsyncSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AipClient, AipServer, ArtifactPeer, BlobStore } from '../../protocol/dist/index.js';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const MB = Number(arg('mb', '64'));
const transports = arg('transport', 'ws') === 'both' ? ['ws', 'grpc'] : [arg('transport', 'ws')];
const json = args.includes('--json');
const tuning = {
  ...(arg('chunk-kib') ? { chunkBytes: Number(arg('chunk-kib')) * 1024 } : {}),
  ...(arg('window-kib') ? { windowBytes: Number(arg('window-kib')) * 1024 } : {}),
};

const capabilities = { os: 'linux', arch: 'x64', labels: [], features: [], slots: 1, cpus: 1, memoryMb: 0, gpus: 0, executors: ['shell'], hostname: 'bench' };
const root = mkdtempSync(path.join(tmpdir(), 'orrery-bench-art-'));
const src = path.join(root, 'src.bin');
const chunk = randomBytes(1 << 20);
const fd = openSync(src, 'w');
for (let i = 0; i < MB; i++) writeFileSync(fd, chunk.map((b) => (b + i) & 0xff));
closeSync(fd);

function pct(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

async function session(transport) {
  const server = new AipServer({ authenticate: (h) => ({ ok: true, deviceId: h.deviceName }), heartbeatIntervalMs: 1000 });
  const port = transport === 'ws' ? await server.listenWebSocket('127.0.0.1', 0) : await server.listenGrpc('127.0.0.1', 0);
  const url = transport === 'ws' ? `ws://127.0.0.1:${port}/v1/aip` : `grpc://127.0.0.1:${port}`;
  const orchStore = new BlobStore(path.join(root, `${transport}-orch`));
  const agentStore = new BlobStore(path.join(root, `${transport}-agent`));
  const client = new AipClient({ url, deviceName: `bench-${transport}`, capabilities });
  const s = await new Promise((resolve) => {
    server.once('session', resolve);
    client.start();
  });
  await new Promise((r) => (client.connected ? r() : client.once('welcome', r)));
  const orchPeer = new ArtifactPeer({ ...tuning, store: orchStore, acceptOffers: true, send: (b) => s.send(b), connected: () => s.connected });
  s.on('artifact', (b) => orchPeer.handle(b));
  let agentPeer = new ArtifactPeer({ ...tuning, store: agentStore, send: (b) => client.send(b), connected: () => client.connected });
  client.on('artifact', (b) => agentPeer.handle(b));
  return {
    server, client, s, orchStore, agentStore, orchPeer,
    get agentPeer() { return agentPeer; },
    swapAgentStore(store) {
      agentPeer.close();
      agentPeer = new ArtifactPeer({ ...tuning, store, send: (b) => client.send(b), connected: () => client.connected });
    },
    async close() {
      orchPeer.close();
      agentPeer.close();
      await client.stop();
      await server.close();
    },
  };
}

/** Runs `transfer` while a reliable message crosses every 50 ms; returns seconds and the messages' delivery times. */
async function withTraffic(sendPing, onPing, transfer) {
  const sent = new Map();
  const delays = [];
  let n = 0;
  onPing((id) => {
    const t = sent.get(id);
    if (t !== undefined) delays.push(performance.now() - t);
  });
  const timer = setInterval(() => {
    const id = ++n;
    sent.set(id, performance.now());
    sendPing(id);
  }, 50);
  const t0 = performance.now();
  await transfer();
  const secs = (performance.now() - t0) / 1000;
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 100));
  return { secs, delays: delays.sort((a, b) => a - b) };
}

async function baseline() {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': String(MB << 20) });
    createReadStream(src, { highWaterMark: 256 * 1024 }).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const dest = path.join(root, 'baseline.bin');
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    http.get(`http://127.0.0.1:${server.address().port}/`, (res) => {
      const hash = createHash('sha256');
      const out = createWriteStream(dest);
      res.on('data', (d) => hash.update(d));
      res.pipe(out);
      out.on('finish', () => {
        const f = openSync(dest, 'r+');
        fsyncSync(f);
        closeSync(f);
        hash.digest('hex');
        resolve();
      });
      res.on('error', reject);
    });
  });
  const secs = (performance.now() - t0) / 1000;
  server.close();
  return secs;
}

const results = [];
try {
  const imported = await new BlobStore(path.join(root, 'seed')).importFile(src);
  for (const transport of transports) {
    const h = await session(transport);
    // The agent's store holds the blob to upload.
    await h.agentStore.importFile(src);
    const offer = { digest: imported.digest, size: imported.size, name: 'bench', constellationId: 'c', taskId: 't', attempt: 1 };
    // Reliable traffic the other way during the upload: orchestrator -> agent LeaseRenewal.
    const up = await withTraffic(
      (id) => h.s.send({ type: 'leaseRenewal', value: { constellationId: 'c', taskId: 'ping', attempt: id, leaseMs: 0 } }),
      (fn) => h.client.on('message', (b) => b.type === 'leaseRenewal' && b.value.taskId === 'ping' && fn(b.value.attempt)),
      () => h.agentPeer.upload(offer),
    );
    // Download into a fresh agent store; agent -> orchestrator Progress meanwhile.
    h.swapAgentStore(new BlobStore(path.join(root, `${transport}-agent2`)));
    const down = await withTraffic(
      (id) => h.client.send({ type: 'progress', value: { constellationId: 'c', taskId: 'ping', attempt: id, fraction: 0, message: '' } }),
      (fn) => h.s.on('message', (b) => b.type === 'progress' && b.value.taskId === 'ping' && fn(b.value.attempt)),
      () => h.agentPeer.fetch(imported.digest, imported.size),
    );
    await h.close();
    for (const [dir, r] of [['upload', up], ['download', down]]) {
      results.push({
        transport,
        direction: dir,
        mb: MB,
        seconds: Number(r.secs.toFixed(3)),
        mbPerSec: Number((MB / r.secs).toFixed(1)),
        msgsDuring: r.delays.length,
        msgP50Ms: Number(pct(r.delays, 50).toFixed(1)),
        msgMaxMs: Number((r.delays.at(-1) ?? 0).toFixed(1)),
      });
    }
  }
  const base = await baseline();
  const rss = Math.round(process.memoryUsage().rss / 1048576);
  if (json) {
    console.log(JSON.stringify({ results, baselineMbPerSec: Number((MB / base).toFixed(1)), rssMb: rss }));
  } else {
    console.log(`artifact transfer, ${MB} MiB of random bytes, loopback, one process holding both ends`);
    console.log('transport  direction  seconds   MiB/s   reliable msgs during: n  p50 ms  max ms');
    for (const r of results) {
      console.log(
        `${r.transport.padEnd(9)}  ${r.direction.padEnd(9)}  ${String(r.seconds).padStart(7)}  ${String(r.mbPerSec).padStart(6)}   ${String(r.msgsDuring).padStart(24)}  ${String(r.msgP50Ms).padStart(6)}  ${String(r.msgMaxMs).padStart(6)}`,
      );
    }
    console.log(`baseline: raw HTTP stream + sha256 + fsync of the same file: ${(MB / base).toFixed(1)} MiB/s (${base.toFixed(3)} s)`);
    console.log(`process RSS at the end: ${rss} MiB (the blob is never held in memory whole)`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
