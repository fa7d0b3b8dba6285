// AIP conformance, connection handshake: Hello/Welcome, authentication,
// version negotiation, enrollment, replacement. Run on both transports.
import { describe, expect, it } from 'vitest';
import { type BodyMap, enrollDevice, encodeEnvelope } from '../src/index.js';
import { conformanceFixture } from './support/conformance-fixture.js';
import { capabilities, helloBody, TRANSPORTS } from './support/harness.js';
import { sleep, until } from './support/wait.js';

describe.each(TRANSPORTS)('AIP conformance: handshake over %s', (transport) => {
  const { server, client, peer, nextSession } = conformanceFixture(transport);

  it('opens a session: hello, welcome, session event', async () => {
    const h = await server({ heartbeatIntervalMs: 1500 });
    const c = client(h);
    const welcomes: BodyMap['welcome'][] = [];
    c.on('welcome', (w) => welcomes.push(w));
    const sessionP = nextSession(h);
    c.start();
    const [session, resumed] = await sessionP;
    await until(() => welcomes.length === 1, 'welcome');
    expect(resumed).toBe(false);
    expect(session.deviceId).toBe('dev-a');
    expect(session.connected).toBe(true);
    expect(session.hello.capabilities.executors).toEqual(['shell']);
    expect(welcomes[0]).toMatchObject({
      protocolVersion: 2,
      sessionId: session.sessionId,
      deviceId: 'dev-a',
      resumed: false,
      heartbeatIntervalMs: 1500,
      leaseMs: 4500,
      maxFrameBytes: 4 * 1024 * 1024,
    });
    expect(h.server.sessionFor('dev-a')).toBe(session);
  });

  it('refuses a bad credential with a fatal AIP_UNAUTHENTICATED; the client stops', async () => {
    let calls = 0;
    const h = await server({
      authenticate: (hello) => {
        calls++;
        return hello.credential === 'good'
          ? { ok: true, deviceId: hello.deviceId }
          : { ok: false, code: 'AIP_UNAUTHENTICATED', message: 'bad credential' };
      },
    });
    const c = client(h, { credential: 'bad' });
    const fatal: string[] = [];
    c.on('fatal', (code) => fatal.push(code));
    c.start();
    await until(() => fatal.length === 1, 'fatal');
    expect(fatal).toEqual(['AIP_UNAUTHENTICATED']);
    await sleep(100);
    expect(calls).toBe(1);
    const p = await peer(h);
    p.send(helloBody('dev-a', { credential: 'bad' }));
    expect(await p.next('error')).toEqual({ code: 'AIP_UNAUTHENTICATED', message: 'bad credential', fatal: true });
    await p.closed();
  });

  it('negotiates the highest common version and refuses when there is none', async () => {
    const h = await server({ protocolVersions: [1, 2] });
    const p = await peer(h);
    p.send(helloBody('dev-v', { protocolVersions: [1, 2, 5] }));
    expect((await p.next('welcome')).protocolVersion).toBe(2);
    const q = await peer(h);
    q.send(helloBody('dev-w', { protocolVersions: [1, 7] }));
    expect((await q.next('welcome')).protocolVersion).toBe(1);

    const c = client(h, { protocolVersions: [7, 8] });
    const fatal: string[] = [];
    c.on('fatal', (code) => fatal.push(code));
    c.start();
    await until(() => fatal.length === 1, 'fatal');
    expect(fatal).toEqual(['AIP_UNSUPPORTED_VERSION']);
  });

  it('requires Hello first, and within the hello timeout', async () => {
    const h = await server({ helloTimeoutMs: 100 });
    const p = await peer(h);
    expect(await p.next('error')).toMatchObject({ code: 'AIP_HELLO_TIMEOUT', fatal: true });
    await p.closed();
    const q = await peer(h);
    q.send({ type: 'heartbeat', value: { running: 0, freeSlots: 1, batteryPercent: -1, thermalCelsius: -1, loadAvg: 0 } });
    expect(await q.next('error')).toMatchObject({ code: 'AIP_OUT_OF_ORDER', fatal: true });
  });

  it('replaces the older connection of the same device', async () => {
    const h = await server();
    const first = await peer(h);
    first.send(helloBody('dev-r'));
    const w1 = await first.next('welcome');
    const second = await peer(h);
    second.send(helloBody('dev-r'));
    const w2 = await second.next('welcome');
    expect(await first.next('error')).toMatchObject({ code: 'AIP_SESSION_REPLACED', fatal: true });
    await first.closed();
    expect(w2.sessionId).not.toBe(w1.sessionId);
    expect(h.server.sessionFor('dev-r')?.sessionId).toBe(w2.sessionId);

    // An AipClient that is replaced stops reconnecting.
    const c = client(h, { deviceId: 'dev-c', deviceName: 'dev-c' });
    const fatal: string[] = [];
    c.on('fatal', (code) => fatal.push(code));
    c.start();
    await until(() => c.connected, 'client connected');
    const third = await peer(h);
    third.send(helloBody('dev-c'));
    await third.next('welcome');
    await until(() => fatal.length === 1, 'client fatal');
    expect(fatal).toEqual(['AIP_SESSION_REPLACED']);
  });

  it('enrolls a device when enrollment is enabled', async () => {
    const h = await server({
      enroll: (e) =>
        e.token === 'tok'
          ? { ok: true, enrolled: { deviceId: `id-${e.deviceName}`, credential: 'cred', labels: ['x'] } }
          : { ok: false, code: 'AIP_UNAUTHENTICATED', message: 'bad token' },
    });
    const enrolled = await enrollDevice({ url: h.url, enroll: { token: 'tok', deviceName: 'phone', capabilities } });
    expect(enrolled).toEqual({ deviceId: 'id-phone', credential: 'cred', labels: ['x'] });
    await expect(
      enrollDevice({ url: h.url, enroll: { token: 'nope', deviceName: 'phone', capabilities } }),
    ).rejects.toMatchObject({ code: 'AIP_UNAUTHENTICATED' });
  });

  it('answers raw envelopes byte-identically on both transports', async () => {
    const h = await server();
    const p = await peer(h);
    p.sendBytes(encodeEnvelope({ seq: 0, ack: 0, sentAtMs: 1, body: helloBody('dev-raw') }));
    expect((await p.next('welcome')).deviceId).toBe('dev-raw');
  });
});
