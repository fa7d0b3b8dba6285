// Garbage on the wire against a live orchestrator process: random bytes,
// mutated valid frames, oversized frames and hello floods on many
// connections, for a bounded time, while a well-behaved agent runs a graph.
// The orchestrator stays up, the good agent is unaffected, memory stays flat.
import { readFileSync } from 'node:fs';
import { decodeEnvelope, encodeEnvelope } from '@orrery/protocol';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHandle, api, type OrchestratorHandle, startAgent, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

let orch: OrchestratorHandle;
let agent: AgentHandle;

beforeAll(async () => {
  orch = await startOrchestrator();
  agent = startAgent({ server: orch.aipUrl, name: 'steady' });
});
afterAll(async () => {
  await agent?.kill('SIGKILL');
  await orch?.kill('SIGKILL');
});

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function validHello(name: string): Uint8Array {
  return encodeEnvelope({
    seq: 0,
    ack: 0,
    sentAtMs: Date.now(),
    body: {
      type: 'hello',
      value: {
        protocolVersions: [1],
        deviceId: '',
        deviceName: name,
        credential: '',
        capabilities: { os: 'linux', arch: 'x64', labels: [], features: [], slots: 1, cpus: 1, memoryMb: 1, gpus: 0, executors: ['shell'], hostname: 'f' },
        resumeSessionId: '',
        resumeAck: 0,
        agentVersion: 'fuzz',
        running: [],
      },
    },
  });
}

async function barrage(url: string, rand: () => number, untilMs: number): Promise<number> {
  let connections = 0;
  while (Date.now() < untilMs) {
    connections++;
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(url);
      const done = (): void => resolve();
      ws.on('error', done);
      ws.on('close', done);
      ws.on('open', () => {
        const kind = Math.floor(rand() * 5);
        const hello = validHello(`fuzz-${connections}`);
        for (let i = 0; i < 5; i++) {
          let frame: Uint8Array;
          if (kind === 0) frame = Uint8Array.from({ length: Math.floor(rand() * 256) }, () => Math.floor(rand() * 256));
          else if (kind === 1) {
            frame = Uint8Array.from(hello);
            for (let j = 0; j < 4; j++) frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
          } else if (kind === 2) frame = new Uint8Array(5 * 1024 * 1024);
          else if (kind === 3) frame = hello;
          else frame = hello.slice(0, Math.max(1, Math.floor(rand() * hello.length)));
          if (ws.readyState === WebSocket.OPEN) ws.send(frame);
        }
        setTimeout(() => ws.terminate(), 20);
      });
      setTimeout(() => {
        ws.terminate();
        resolve();
      }, 1000).unref();
    });
  }
  return connections;
}

describe('wire fuzzing against a live orchestrator', () => {
  it('stays up, keeps serving a good agent, and does not grow', async () => {
    await waitFor(async () => (await api<{ items: Array<{ name: string; status: string }> }>(orch.url, 'GET', '/v1/devices')).items.some((d) => d.name === 'steady' && d.status === 'online'), 'agent online');
    const pid = JSON.parse(readFileSync(`${orch.dataDir}/server.json`, 'utf8')).pid as number;
    const rand = seeded(Number(process.env.FUZZ_SEED ?? Date.now() % 1e9));

    // Warm up, then measure across the main barrage.
    await barrage(orch.aipUrl, rand, Date.now() + 1000);
    const before = rssKb(pid);
    const tasks: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) tasks[`t${i}`] = { run: `echo ${i}`, ...(i ? { needs: [`t${i - 1}`] } : {}) };
    const c = await api<{ id: string }>(orch.url, 'POST', '/v1/constellations', { name: 'during-fuzz', tasks });
    const until = Date.now() + 4000;
    const counts = await Promise.all([1, 2, 3, 4, 5, 6].map(() => barrage(orch.aipUrl, rand, until)));
    const connections = counts.reduce((a, b) => a + b, 0);
    const done = await waitFor(async () => {
      const s = await api<{ status: string }>(orch.url, 'GET', `/v1/constellations/${c.id}`);
      return s.status === 'succeeded' || s.status === 'failed' ? s : undefined;
    }, 'the graph to finish');
    expect(done.status).toBe('succeeded');
    expect(connections).toBeGreaterThan(10);
    expect((await api<{ status: string }>(orch.url, 'GET', '/healthz')).status).toBe('ok');
    const { items } = await api<{ items: Array<{ name: string; status: string }> }>(orch.url, 'GET', '/v1/devices');
    expect(items.find((d) => d.name === 'steady')?.status).toBe('online');
    const after = rssKb(pid);
    // Flat: well under the 5 MiB frames it was sent dozens of times.
    expect(after - before).toBeLessThan(64 * 1024);
  });

  it('closes a connection that floods frames with AIP_RATE_LIMITED', async () => {
    const ws = new WebSocket(orch.aipUrl);
    const codes: string[] = [];
    let welcomed = false;
    ws.on('message', (data: Buffer) => {
      const env = decodeEnvelope(new Uint8Array(data));
      if (env.body.type === 'welcome') welcomed = true;
      if (env.body.type === 'error') codes.push(env.body.value.code);
    });
    const closed = new Promise<void>((r) => ws.on('close', () => r()));
    await new Promise<void>((r) => ws.on('open', () => r()));
    ws.send(validHello('flooder'));
    await waitFor(() => welcomed, 'the welcome');
    const heartbeat = encodeEnvelope({
      seq: 0,
      ack: 0,
      sentAtMs: Date.now(),
      body: { type: 'heartbeat', value: { running: 0, freeSlots: 1, batteryPercent: -1, thermalCelsius: -1, loadAvg: 0 } },
    });
    for (let i = 0; i < 60_000 && ws.readyState === WebSocket.OPEN; i++) ws.send(heartbeat);
    await Promise.race([closed, new Promise((r) => setTimeout(r, 20_000))]);
    expect(codes).toContain('AIP_RATE_LIMITED');
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    // Everyone else is fine.
    expect((await api<{ status: string }>(orch.url, 'GET', '/healthz')).status).toBe('ok');
    const { items } = await api<{ items: Array<{ name: string; status: string }> }>(orch.url, 'GET', '/v1/devices');
    expect(items.find((d) => d.name === 'steady')?.status).toBe('online');
  });
});
