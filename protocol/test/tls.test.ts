// wss:// and grpcs://: the server presents cert+key, the agent verifies it
// against a CA it was given; without that CA the connection is refused.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AipClient, type Body, type BodyMap, dialChannel, type ServerSession } from '../src/index.js';
import { capabilities, type Harness, startServer, TRANSPORTS } from './support/harness.js';
import { makeSelfSigned, type SelfSigned } from './support/self-signed.js';
import { until } from './support/wait.js';

let tls: SelfSigned;
beforeAll(() => {
  tls = makeSelfSigned();
});

describe.each(TRANSPORTS)('AIP over TLS (%s)', (transport) => {
  let harness: Harness | undefined;
  let client: AipClient | undefined;
  afterEach(async () => {
    await client?.stop();
    await harness?.server.close();
  });

  it('opens a session and exchanges messages when the CA is trusted', async () => {
    harness = await startServer(transport, {}, tls);
    expect(harness.url.startsWith(transport === 'ws' ? 'wss://' : 'grpcs://')).toBe(true);
    const h = harness;
    client = new AipClient({ url: h.url, deviceId: 'tls', deviceName: 'tls', capabilities, caPem: tls.certPem });
    const got: Body[] = [];
    client.on('message', (b) => got.push(b));
    const sessionP = new Promise<ServerSession>((resolve) => h.server.once('session', resolve));
    client.start();
    const session = await sessionP;
    const results: Body[] = [];
    session.on('message', (b) => results.push(b));
    session.send({ type: 'cancel', value: { constellationId: 'c', taskId: 't', attempt: 1, reason: 'r' } });
    client.send({ type: 'accept', value: { constellationId: 'c', taskId: 't', attempt: 1 } });
    await until(() => got.length === 1 && results.length === 1, 'exchange over TLS');
    expect(got[0]?.value).toMatchObject({ reason: 'r' } satisfies Partial<BodyMap['cancel']>);
  });

  it('refuses to connect without the CA', async () => {
    harness = await startServer(transport, {}, tls);
    await expect(dialChannel(harness.url, { maxPayload: 1 << 20, connectTimeoutMs: 1000 })).rejects.toThrow();
  });
});
