// AIP conformance, established sessions: reliable exchange, heartbeats,
// frame limits, bad input, revocation, goodbye, shutdown. Run on both transports.
import { describe, expect, it } from 'vitest';
import type { Body, BodyMap, Heartbeat } from '../src/index.js';
import { assign, conformanceFixture, result } from './support/conformance-fixture.js';
import { helloBody, TRANSPORTS } from './support/harness.js';
import { until } from './support/wait.js';

describe.each(TRANSPORTS)('AIP conformance: session over %s', (transport) => {
  const { server, client, peer, nextSession, forgetServer } = conformanceFixture(transport);

  it('exchanges reliable messages both ways, in order, and acknowledges them', async () => {
    const h = await server();
    const c = client(h);
    const toAgent: Body[] = [];
    const toServer: Body[] = [];
    const acked: number[] = [];
    c.on('message', (b) => toAgent.push(b));
    c.on('acked', (seq) => acked.push(seq));
    const sessionP = nextSession(h);
    c.start();
    const [session] = await sessionP;
    session.on('message', (b) => toServer.push(b));
    for (let i = 0; i < 200; i++) session.send(assign(i));
    for (let i = 0; i < 200; i++) c.send(result(i));
    await c.flushed();
    await until(() => toAgent.length === 200 && toServer.length === 200, 'all messages');
    expect(toAgent.map((b) => (b.value as BodyMap['assign']).taskId)).toEqual(
      Array.from({ length: 200 }, (_, i) => `t${i}`),
    );
    expect(toServer.map((b) => (b.value as BodyMap['result']).taskId)).toEqual(
      Array.from({ length: 200 }, (_, i) => `t${i}`),
    );
    expect(acked).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // The agent's acks (piggybacked or standalone) drain the server's replay buffer.
    await until(() => (session as unknown as { unacked: number }).unacked === 0, 'server buffer drained');
  });

  it('delivers heartbeats with load to the session', async () => {
    const h = await server({ heartbeatIntervalMs: 50 });
    const load: Heartbeat = { running: 2, freeSlots: 1, batteryPercent: 80, thermalCelsius: 40, loadAvg: 1.5 };
    const c = client(h, { heartbeat: () => load });
    const beats: Heartbeat[] = [];
    const sessionP = nextSession(h);
    c.start();
    const [session] = await sessionP;
    session.on('heartbeat', (hb) => beats.push(hb));
    await until(() => beats.length >= 3, 'three heartbeats');
    expect(beats[0]).toEqual(load);
    expect(c.connected).toBe(true);
  });

  it('closes a connection that sends an oversized frame', async () => {
    const h = await server({ maxFrameBytes: 64 * 1024 });
    const p = await peer(h);
    p.send(helloBody('dev-big'));
    await p.next('welcome');
    p.send({ type: 'goodbye', value: { reason: 'x'.repeat(64 * 1024 + 100) } });
    expect(await p.next('error')).toMatchObject({ code: 'AIP_FRAME_TOO_LARGE', fatal: true });
    await p.closed();
    // Far above the limit: the transport itself cuts the connection.
    const q = await peer(h);
    q.send(helloBody('dev-huge'));
    await q.next('welcome');
    q.send({ type: 'goodbye', value: { reason: 'x'.repeat(1024 * 1024) } });
    await q.closed();
  });

  it('refuses to send a frame above the negotiated limit', async () => {
    const h = await server({ maxFrameBytes: 1024 });
    const c = client(h);
    const sessionP = nextSession(h);
    c.start();
    await sessionP;
    await until(() => c.connected, 'connected');
    expect(() => c.send({ type: 'progress', value: { constellationId: 'c1', taskId: 't', attempt: 1, fraction: 0.1, message: 'y'.repeat(2000) } })).toThrowError(
      expect.objectContaining({ code: 'AIP_FRAME_TOO_LARGE' }),
    );
    expect(c.unacked).toBe(0);
  });

  it('closes only the session that sends garbage; others keep working', async () => {
    const h = await server();
    const good = client(h, { deviceId: 'good', deviceName: 'good' });
    const goodMessages: Body[] = [];
    good.on('message', (b) => goodMessages.push(b));
    const sessionP = nextSession(h);
    good.start();
    const [goodSession] = await sessionP;
    const serverGot: Body[] = [];
    goodSession.on('message', (b) => serverGot.push(b));

    const bad = await peer(h);
    bad.send(helloBody('bad'));
    await bad.next('welcome');
    bad.sendBytes(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(await bad.next('error')).toMatchObject({ code: 'AIP_BAD_FRAME', fatal: true });
    await bad.closed();

    // Garbage as the very first frame, too.
    const worse = await peer(h);
    worse.sendBytes(new Uint8Array([0x0a, 0xff]));
    expect(await worse.next('error')).toMatchObject({ code: 'AIP_BAD_FRAME', fatal: true });
    await worse.closed();

    goodSession.send(assign(1));
    good.send(result(1));
    await until(() => goodMessages.length === 1 && serverGot.length === 1, 'exchange after garbage');
    expect(goodSession.connected).toBe(true);
  });

  it('rejects a sequence gap with AIP_OUT_OF_ORDER and drops duplicates', async () => {
    const h = await server();
    const sessionP = nextSession(h);
    const p = await peer(h);
    p.send(helloBody('dev-seq'));
    await p.next('welcome');
    const [session] = await sessionP;
    const got: Body[] = [];
    session.on('message', (b) => got.push(b));
    p.send(result(1), 1);
    p.send(result(1), 1); // duplicate: dropped
    p.send(result(2), 2);
    p.send(result(4), 4); // gap
    expect(await p.next('error')).toMatchObject({ code: 'AIP_OUT_OF_ORDER', fatal: true });
    expect(got.map((b) => (b.value as BodyMap['result']).taskId)).toEqual(['t1', 't2']);
    // The session survives the connection: a resume picks up after seq 2.
    const q = await peer(h);
    q.send(helloBody('dev-seq', { resumeSessionId: session.sessionId, resumeAck: 0 }));
    const welcome = await q.next('welcome');
    expect(welcome).toMatchObject({ resumed: true, resumeAck: 2, sessionId: session.sessionId });
  });

  it('rejects messages sent in the wrong direction', async () => {
    const h = await server();
    const p = await peer(h);
    p.send(helloBody('dev-dir'));
    await p.next('welcome');
    p.send(assign(1), 1);
    expect(await p.next('error')).toMatchObject({ code: 'AIP_BAD_FRAME', fatal: true });
  });

  it('terminates a session on revocation; the client stops', async () => {
    const h = await server();
    const c = client(h);
    const fatal: string[] = [];
    c.on('fatal', (code) => fatal.push(code));
    const sessionP = nextSession(h);
    c.start();
    const [session] = await sessionP;
    const ended: string[] = [];
    session.on('end', (r) => ended.push(r));
    session.terminate('AIP_REVOKED', 'device revoked');
    await until(() => fatal.length === 1, 'fatal');
    expect(fatal).toEqual(['AIP_REVOKED']);
    expect(ended).toHaveLength(1);
    expect(h.server.sessionFor('dev-a')).toBeUndefined();
  });

  it('ends the session on Goodbye', async () => {
    const h = await server();
    const c = client(h);
    const sessionP = nextSession(h);
    c.start();
    const [session] = await sessionP;
    const ended: string[] = [];
    session.on('end', (r) => ended.push(r));
    await until(() => c.connected, 'connected');
    await c.stop('shutting down');
    await until(() => ended.length === 1, 'end');
    expect(ended[0]).toBe('goodbye: shutting down');
  });

  it('tells agents when it shuts down; they keep trying to reconnect', async () => {
    const h = await server();
    const c = client(h);
    const disconnects: string[] = [];
    const fatal: string[] = [];
    c.on('disconnect', (r) => disconnects.push(r));
    c.on('fatal', (code) => fatal.push(code));
    c.start();
    await until(() => c.connected, 'connected');
    await h.server.close();
    forgetServer();
    await until(() => disconnects.length >= 1, 'disconnect');
    expect(disconnects[0]).toContain('AIP_SHUTTING_DOWN');
    expect(fatal).toEqual([]);
  });

  it('survives application handlers that throw', async () => {
    const h = await server();
    const c = client(h);
    const got: Body[] = [];
    c.on('message', (b) => {
      got.push(b);
      throw new Error('agent bug');
    });
    const sessionP = nextSession(h);
    c.start();
    const [session] = await sessionP;
    const serverGot: Body[] = [];
    session.on('message', (b) => {
      serverGot.push(b);
      throw new Error('orchestrator bug');
    });
    for (const i of [1, 2]) {
      session.send(assign(i));
      c.send(result(i));
    }
    await c.flushed();
    await until(() => got.length === 2 && serverGot.length === 2, 'both messages each way');
    expect(session.connected && c.connected).toBe(true);
  });

  it('can be stopped and started again, resuming its session', async () => {
    const h = await server();
    const c = client(h);
    const sessionP = nextSession(h);
    c.start();
    const [session] = await sessionP;
    await until(() => c.connected, 'connected');
    // stop() says Goodbye, which ends the session: a restart opens a new one.
    await c.stop('restart');
    for (let i = 0; i < 3; i++) c.send(result(i));
    const next = nextSession(h);
    c.start();
    const [fresh, resumed] = await next;
    expect(resumed).toBe(false);
    expect(fresh.sessionId).not.toBe(session.sessionId);
    const got: Body[] = [];
    fresh.on('message', (b) => got.push(b));
    await c.flushed();
    expect(got.map((b) => (b.value as BodyMap['result']).taskId)).toEqual(['t0', 't1', 't2']);
  });
});
