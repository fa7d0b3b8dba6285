// AIP over WebSocket shares the orchestrator's HTTP server: plain requests
// and upgrades on other paths are left to their own handlers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { AipClient, AipServer } from '../src/index.js';
import { capabilities } from './support/harness.js';
import { until } from './support/wait.js';

describe('AipServer.attachWebSocket', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });

  it('serves /v1/aip beside HTTP routes and other WebSocket paths', async () => {
    const httpServer = http.createServer((_req, res) => res.end('api'));
    const events = new WebSocketServer({ noServer: true });
    httpServer.on('upgrade', (req, socket, head) => {
      if (req.url === '/v1/events') events.handleUpgrade(req, socket, head, (ws) => ws.send('hello from events'));
    });
    const aip = new AipServer({ authenticate: () => ({ ok: true, deviceId: 'derived-id' }) });
    aip.attachWebSocket(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () => new Promise<void>((resolve) => {
        httpServer.closeAllConnections();
        httpServer.close(() => resolve());
      }),
    );
    cleanups.push(() => events.close());
    cleanups.push(() => aip.close());
    const port = (httpServer.address() as AddressInfo).port;

    const client = new AipClient({ url: `ws://127.0.0.1:${port}/v1/aip`, deviceName: 'no-id', capabilities });
    cleanups.push(() => client.stop());
    client.start();
    await until(() => client.connected, 'AIP session');
    expect(client.lastWelcome?.deviceId).toBe('derived-id');
    expect(aip.sessionFor('derived-id')?.connected).toBe(true);

    const body = await fetch(`http://127.0.0.1:${port}/anything`).then((r) => r.text());
    expect(body).toBe('api');

    const other = new WebSocket(`ws://127.0.0.1:${port}/v1/events`);
    cleanups.push(() => other.terminate());
    const first = await new Promise<string>((resolve) => other.once('message', (d) => resolve(String(d))));
    expect(first).toBe('hello from events');
  });
});
