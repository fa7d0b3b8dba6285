// Bounded fuzzing of a live server: random and mutated frames on many
// connections while a well-behaved agent keeps exchanging messages. The
// server must stay up and the good session must not notice anything.
import { afterEach, describe, expect, it } from 'vitest';
import { AipClient, type Body, type BodyMap, dialChannel, encodeEnvelope, type ServerSession } from '../src/index.js';
import { capabilities, type Harness, helloBody, startServer, TRANSPORTS } from './support/harness.js';
import { sleep, until } from './support/wait.js';

const FUZZ_MS = 1000; // per transport
const WORKERS = 4;

/** mulberry32: small seeded PRNG, so a failing run can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFrames(deviceId: string): Uint8Array[] {
  const ref = { constellationId: 'c', taskId: 't', attempt: 1 };
  const frame = (body: Body, seq = 0, ack = 0): Uint8Array => encodeEnvelope({ seq, ack, sentAtMs: 1, body });
  return [
    frame(helloBody(deviceId)),
    frame({ type: 'heartbeat', value: { running: 1, freeSlots: 1, batteryPercent: -1, thermalCelsius: -1, loadAvg: 0 } }),
    frame({ type: 'result', value: { ...ref, outcome: 'FAILED' } as BodyMap['result'] }, 1),
    frame({ type: 'result', value: { ...ref, outcome: 'FAILED' } as BodyMap['result'] }, 5), // gap
    frame({ type: 'ackOnly', value: {} }, 0, 99), // ack beyond anything sent
    frame({ type: 'assign', value: { ...ref } as BodyMap['assign'] }, 1), // wrong direction
    frame({ type: 'error', value: { code: 'X', message: 'y', fatal: false } }),
    frame({ type: 'goodbye', value: { reason: 'z' } }),
    frame({ type: 'enroll', value: { token: 't', deviceName: 'n', capabilities } }),
  ];
}

function mutate(rand: () => number, frames: Uint8Array[]): Uint8Array {
  const pick = (): Uint8Array => frames[Math.floor(rand() * frames.length)] as Uint8Array;
  const base = Uint8Array.from(pick());
  switch (Math.floor(rand() * 6)) {
    case 0: // pure noise
      return Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
    case 1: // bit flips
      for (let i = 0; i < 1 + rand() * 4; i++) {
        const at = Math.floor(rand() * base.length);
        base[at] = (base[at] as number) ^ (1 << Math.floor(rand() * 8));
      }
      return base;
    case 2: // truncation
      return base.slice(0, Math.floor(rand() * base.length));
    case 3: {
      // two frames glued together (valid protobuf: the messages merge)
      const other = pick();
      const out = new Uint8Array(base.length + other.length);
      out.set(base);
      out.set(other, base.length);
      return out;
    }
    case 4: // random bytes inserted
      return Uint8Array.from([...base.slice(0, 3), ...Array.from({ length: 8 }, () => Math.floor(rand() * 256)), ...base.slice(3)]);
    default:
      return base; // a valid frame, possibly out of place
  }
}

describe.each(TRANSPORTS)('AIP fuzzing over %s', (transport) => {
  let harness: Harness | undefined;
  let good: AipClient | undefined;
  afterEach(async () => {
    await good?.stop();
    await harness?.server.close();
  });

  it('survives random and mutated frames while a good session keeps working', async () => {
    const seed = Date.now() >>> 0;
    harness = await startServer(transport, { maxFrameBytes: 64 * 1024, helloTimeoutMs: 300 });
    const h = harness;
    good = new AipClient({ url: h.url, deviceId: 'good', deviceName: 'good', capabilities });
    const client = good;
    const toAgent: Body[] = [];
    const toServer: Body[] = [];
    const goodDisconnects: string[] = [];
    client.on('disconnect', (r) => goodDisconnects.push(r));
    // The agent answers every assign with a result.
    client.on('message', (b) => {
      toAgent.push(b);
      const a = b.value as BodyMap['assign'];
      client.send({ type: 'result', value: { ...a, outcome: 'SUCCEEDED' } as unknown as BodyMap['result'] });
    });
    const sessionP = new Promise<ServerSession>((resolve) => h.server.once('session', resolve));
    client.start();
    const session = await sessionP;
    session.on('message', (b) => toServer.push(b));

    let sent = 0;
    let fuzzConnections = 0;
    const deadline = Date.now() + FUZZ_MS;
    const worker = async (w: number): Promise<void> => {
      const rand = prng(seed + w);
      while (Date.now() < deadline) {
        let channel: Awaited<ReturnType<typeof dialChannel>>;
        try {
          channel = await dialChannel(h.url, { maxPayload: 1 << 20, connectTimeoutMs: 2000 });
        } catch {
          continue; // the server may refuse while busy; it must still be up at the end
        }
        fuzzConnections++;
        channel.onFrame(() => {});
        const frames = seedFrames(`fuzz-${w}-${fuzzConnections}`);
        if (rand() < 0.5) channel.send(frames[0] as Uint8Array);
        const count = 1 + Math.floor(rand() * 5);
        for (let i = 0; i < count; i++) channel.send(mutate(rand, frames));
        await sleep(rand() * 10);
        channel.close();
      }
    };
    const pump = (async () => {
      while (Date.now() < deadline) {
        session.send({ type: 'assign', value: { constellationId: 'c', taskId: `a${sent}`, attempt: 1 } as BodyMap['assign'] });
        sent++;
        await sleep(2);
      }
    })();
    await Promise.all([pump, ...Array.from({ length: WORKERS }, (_, w) => worker(w))]);

    await until(() => toServer.length === sent, `all ${sent} results (seed ${seed})`);
    expect(toAgent.map((b) => (b.value as BodyMap['assign']).taskId)).toEqual(
      Array.from({ length: sent }, (_, i) => `a${i}`),
    );
    expect(toServer.map((b) => (b.value as BodyMap['result']).taskId)).toEqual(
      Array.from({ length: sent }, (_, i) => `a${i}`),
    );
    expect(goodDisconnects).toEqual([]);
    expect(fuzzConnections).toBeGreaterThan(10);
    console.log(`fuzz ${transport}: ${fuzzConnections} connections, ${sent} messages each way, seed ${seed}`);
    // Still accepting new sessions.
    const late = new AipClient({ url: h.url, deviceId: 'late', deviceName: 'late', capabilities });
    late.start();
    await until(() => late.connected, 'a new session after fuzzing');
    await late.stop();
  });
});
