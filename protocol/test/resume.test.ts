// Session resumption through a fault-injecting TCP proxy: connections are
// cut, stalled and delayed while both sides stream reliable messages; every
// message must arrive exactly once, in order, on both sides.
import { afterEach, describe, expect, it } from 'vitest';
import { AipClient, type Body, type BodyMap, type ServerSession } from '../src/index.js';
import { capabilities, type Harness, startServer, TRANSPORTS, urlFor } from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { sleep, until } from './support/wait.js';

const N = 1500;

function assign(i: number): Body {
  return { type: 'assign', value: { constellationId: 'c', taskId: `a${i}`, attempt: 1 } as BodyMap['assign'] };
}
function result(i: number): Body {
  return { type: 'result', value: { constellationId: 'c', taskId: `r${i}`, attempt: 1, outcome: 'SUCCEEDED' } as BodyMap['result'] };
}
const ids = (bodies: Body[]): string[] => bodies.map((b) => (b.value as { taskId: string }).taskId);
const expected = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe.each(TRANSPORTS)('AIP resumption over %s', (transport) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  async function setup(heartbeatIntervalMs = 100): Promise<{
    harness: Harness;
    proxy: TcpProxy;
    client: AipClient;
    session: ServerSession;
    toAgent: Body[];
    toServer: Body[];
    resumes: () => number;
  }> {
    const harness = await startServer(transport, { heartbeatIntervalMs, sessionRetentionMs: 30_000 });
    cleanups.push(() => harness.server.close());
    const proxy = await TcpProxy.start(harness.port);
    cleanups.push(() => proxy.close());
    const client = new AipClient({
      url: urlFor(transport, proxy.port),
      deviceId: 'dev-r',
      deviceName: 'dev-r',
      capabilities,
      reconnect: { initialMs: 5, maxMs: 50 },
      connectTimeoutMs: 2000,
    });
    cleanups.push(() => client.stop());
    const toAgent: Body[] = [];
    const toServer: Body[] = [];
    client.on('message', (b) => toAgent.push(b));
    let resumes = 0;
    const sessionP = new Promise<ServerSession>((resolve) =>
      harness.server.on('session', (s: ServerSession, resumed: boolean) => {
        if (resumed) resumes++;
        else resolve(s);
      }),
    );
    client.start();
    const session = await sessionP;
    session.on('message', (b) => toServer.push(b));
    // Only a Welcome tells the agent its session id: until then there is nothing to resume.
    await until(() => client.connected, 'welcome');
    return { harness, proxy, client, session, toAgent, toServer, resumes: () => resumes };
  }

  it('delivers everything exactly once, in order, across repeated connection cuts', async () => {
    const { proxy, client, session, toAgent, toServer, resumes } = await setup();
    let sentS = 0;
    let sentC = 0;
    const pump = setInterval(() => {
      for (let k = 0; k < 15; k++) {
        if (sentS < N) session.send(assign(sentS++));
        if (sentC < N) client.send(result(sentC++));
      }
    }, 1);
    cleanups.push(() => clearInterval(pump));
    for (let cut = 0; cut < 5; cut++) {
      await sleep(20);
      const before = proxy.accepted;
      proxy.cutAll();
      // Wait for the client to be back before the next cut, so each cut hits a live session.
      await until(
        () => proxy.accepted > before && client.connected && session.connected,
        `reconnect after cut ${cut}`,
      );
    }
    await until(() => toAgent.length >= N && toServer.length >= N, 'all messages', 20_000);
    await client.flushed();
    expect(ids(toAgent)).toEqual(expected('a', N));
    expect(ids(toServer)).toEqual(expected('r', N));
    expect(resumes()).toBeGreaterThanOrEqual(5);
    expect(proxy.accepted).toBeGreaterThanOrEqual(6);
    expect(client.currentSessionId).toBe(session.sessionId);
  });

  it('recovers from a stalled link (heartbeat silence) and from added latency', async () => {
    const { proxy, client, session, toAgent, toServer } = await setup(50);
    const disconnects: string[] = [];
    session.on('disconnect', (r) => disconnects.push(r));
    for (let i = 0; i < 100; i++) session.send(assign(i));
    for (let i = 0; i < 100; i++) client.send(result(i));
    proxy.stall(true);
    for (let i = 100; i < 200; i++) session.send(assign(i));
    for (let i = 100; i < 200; i++) client.send(result(i));
    // Both ends give up on the silent connection after 3 missed heartbeats.
    await until(() => disconnects.length >= 1 && !client.connected, 'silence detected');
    proxy.cutAll();
    proxy.delayMs = 15;
    proxy.stall(false);
    for (let i = 200; i < 300; i++) session.send(assign(i));
    for (let i = 200; i < 300; i++) client.send(result(i));
    await until(() => toAgent.length >= 300 && toServer.length >= 300, 'all messages', 20_000);
    await client.flushed();
    expect(ids(toAgent)).toEqual(expected('a', 300));
    expect(ids(toServer)).toEqual(expected('r', 300));
  });

  it('re-sends unacknowledged messages under fresh seqs when the orchestrator lost the session', async () => {
    const { harness, proxy, client, session, toServer } = await setup();
    for (let i = 0; i < 50; i++) client.send(result(i));
    await client.flushed();
    expect(ids(toServer)).toEqual(expected('r', 50));
    // The orchestrator goes away; the agent keeps producing results.
    await harness.server.close();
    await until(() => !client.connected, 'client disconnected');
    for (let i = 50; i < 120; i++) client.send(result(i));
    expect(client.unacked).toBe(70);
    // A fresh orchestrator (no memory of the session) takes over the address.
    const fresh = await startServer(transport, { heartbeatIntervalMs: 100 });
    cleanups.push(() => fresh.server.close());
    const got: Body[] = [];
    const welcomes: boolean[] = [];
    client.on('welcome', (w) => welcomes.push(w.resumed));
    fresh.server.on('session', (s: ServerSession) => s.on('message', (b) => got.push(b)));
    proxy.targetPort = fresh.port;
    await client.flushed();
    expect(welcomes).toEqual([false]);
    expect(ids(got)).toEqual(Array.from({ length: 70 }, (_, i) => `r${i + 50}`));
    expect(client.currentSessionId).not.toBe(session.sessionId);
  });
});
