// Shared setup of the AIP conformance suites: one server per test on the
// transport under test, clients and raw peers closed after each test.
import { afterEach } from 'vitest';
import {
  AipClient,
  type AipClientConfig,
  type AipServerConfig,
  type Body,
  type BodyMap,
  type ServerSession,
} from '../../src/index.js';
import { capabilities, type Harness, RawPeer, startServer, type Transport } from './harness.js';

const ref = { constellationId: 'c1', taskId: 't', attempt: 1 };

export function assign(i: number): Body {
  return {
    type: 'assign',
    value: { ...ref, taskId: `t${i}`, leaseMs: 6000, timeoutMs: 0, inputs: { i: String(i) }, outputs: [] } as unknown as BodyMap['assign'],
  };
}

export function result(i: number): Body {
  return { type: 'result', value: { ...ref, taskId: `t${i}`, outcome: 'SUCCEEDED', exitCode: 0 } as unknown as BodyMap['result'] };
}

export interface ConformanceFixture {
  server(config?: Partial<AipServerConfig>): Promise<Harness>;
  client(h: Harness, config?: Partial<AipClientConfig>): AipClient;
  peer(h: Harness): Promise<RawPeer>;
  nextSession(h: Harness): Promise<[ServerSession, boolean]>;
  /** Forget the server (a test that closed it itself). */
  forgetServer(): void;
}

/** Call inside a describe block: registers the afterEach cleanup. */
export function conformanceFixture(transport: Transport): ConformanceFixture {
  let harness: Harness | undefined;
  const clients: AipClient[] = [];
  const peers: RawPeer[] = [];

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await Promise.all(clients.splice(0).map((c) => c.stop('test over')));
    await harness?.server.close();
    harness = undefined;
  });

  return {
    async server(config = {}) {
      harness = await startServer(transport, config);
      return harness;
    },
    client(h, config = {}) {
      const c = new AipClient({
        url: h.url,
        deviceName: 'dev-a',
        deviceId: 'dev-a',
        capabilities,
        reconnect: { initialMs: 10, maxMs: 100 },
        ...config,
      });
      clients.push(c);
      return c;
    },
    async peer(h) {
      const p = await RawPeer.connect(h.url);
      peers.push(p);
      return p;
    },
    nextSession(h) {
      return new Promise((resolve) => h.server.once('session', (s: ServerSession, r: boolean) => resolve([s, r])));
    },
    forgetServer() {
      harness = undefined;
    },
  };
}
