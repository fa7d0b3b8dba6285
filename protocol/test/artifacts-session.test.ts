// Artifact transfer over a real AIP session (WebSocket and gRPC): version
// negotiation, resumption after a cut connection, reliable traffic alongside.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AipClient, ArtifactPeer, type ServerSession } from '../src/index.js';
import { blobIn, cleanUpAfterEach, cleanups, offerOf, tempStore } from './support/artifact-peers.js';
import { capabilities, startServer, TRANSPORTS, urlFor } from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/wait.js';

cleanUpAfterEach();

describe.each(TRANSPORTS)('artifact transfer over a live AIP session (%s)', (transport) => {
  it('negotiates version 2, uploads a blob, and resumes it after the connection is cut mid-transfer', async () => {
    const orchStore = tempStore();
    const agentStore = tempStore();
    const blob = await blobIn(agentStore, 6 * 1024 * 1024);
    const h = await startServer(transport, { heartbeatIntervalMs: 500 });
    cleanups.push(() => h.server.close());
    const peers = new Map<ServerSession, ArtifactPeer>();
    h.server.on('session', (session, resumed) => {
      let peer = peers.get(session);
      if (!peer) {
        const p = new ArtifactPeer({
          store: orchStore,
          acceptOffers: true,
          send: (b) => session.send(b),
          connected: () => session.connected,
          chunkBytes: 128 * 1024,
          windowBytes: 512 * 1024,
        });
        peers.set(session, p);
        peer = p;
        session.on('artifact', (b) => p.handle(b));
        cleanups.push(() => p.close());
      }
      if (resumed) peer.reconnected();
    });
    const proxy = await TcpProxy.start(h.port);
    cleanups.push(() => proxy.close());
    const client = new AipClient({
      url: urlFor(transport, proxy.port),
      deviceName: `art-${transport}`,
      capabilities,
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    cleanups.push(() => client.stop());
    let welcomes = 0;
    let version = 0;
    const sentOffsets: number[] = [];
    /** Offsets of the chunks sent on the second (and later) connection. */
    const afterCut: number[] = [];
    const agentPeer = new ArtifactPeer({
      store: agentStore,
      send: (b) => {
        if (b.type === 'artifactChunk') (welcomes > 1 ? afterCut : sentOffsets).push(b.value.offset);
        client.send(b);
      },
      connected: () => client.connected,
      chunkBytes: 128 * 1024,
    });
    cleanups.push(() => agentPeer.close());
    client.on('artifact', (b) => agentPeer.handle(b));
    client.on('welcome', (w) => {
      version = w.protocolVersion;
      if (welcomes++ > 0) agentPeer.reconnected();
    });
    client.start();
    await until(() => client.connected, 'the client to connect');
    expect(version).toBe(2);
    // Slow the link so the cut lands mid-transfer.
    proxy.delayMs = 5;
    const upload = agentPeer.upload(offerOf(blob));
    await until(() => sentOffsets.length >= 8, 'some chunks to go out');
    proxy.cutAll();
    proxy.delayMs = 0;
    await upload;
    expect(welcomes).toBeGreaterThanOrEqual(2);
    expect(readFileSync(orchStore.pathOf(blob.digest)).equals(blob.data)).toBe(true);
    // Resumed, not restarted: on the new connection the stream went on from a non-zero offset.
    expect(afterCut.length).toBeGreaterThan(0);
    expect(afterCut[0]).toBeGreaterThan(0);
    // The same blob downloads back into a fresh store over the same session.
    const other = tempStore();
    const session = h.server.sessionFor(`art-${transport}`) as ServerSession;
    const fetcher = new ArtifactPeer({ store: other, send: (b) => client.send(b), connected: () => client.connected });
    cleanups.push(() => fetcher.close());
    client.removeAllListeners('artifact');
    client.on('artifact', (b) => fetcher.handle(b));
    await fetcher.fetch(blob.digest, blob.size);
    expect(existsSync(other.pathOf(blob.digest))).toBe(true);
    expect(session.protocolVersion).toBe(2);
  });

  it('keeps reliable messages flowing both ways while a large blob moves', async () => {
    const orchStore = tempStore();
    const agentStore = tempStore();
    const blob = await blobIn(agentStore, 8 * 1024 * 1024);
    const h = await startServer(transport, { heartbeatIntervalMs: 500 });
    cleanups.push(() => h.server.close());
    const proxy = await TcpProxy.start(h.port);
    cleanups.push(() => proxy.close());
    proxy.delayMs = 2; // a slower link, so the transfer lasts
    const sessionP = new Promise<ServerSession>((resolve) => h.server.on('session', (s) => resolve(s)));
    const client = new AipClient({ url: urlFor(transport, proxy.port), deviceName: `flow-${transport}`, capabilities });
    cleanups.push(() => client.stop());
    client.start();
    const session = await sessionP;
    const opts = { chunkBytes: 128 * 1024, windowBytes: 256 * 1024 };
    const orchPeer = new ArtifactPeer({
      ...opts,
      store: orchStore,
      acceptOffers: true,
      send: (b) => session.send(b),
      connected: () => session.connected,
    });
    const agentPeer = new ArtifactPeer({
      ...opts,
      store: agentStore,
      send: (b) => client.send(b),
      connected: () => client.connected,
    });
    cleanups.push(
      () => orchPeer.close(),
      () => agentPeer.close(),
    );
    session.on('artifact', (b) => orchPeer.handle(b));
    client.on('artifact', (b) => agentPeer.handle(b));
    await until(() => client.connected, 'the client to connect');
    let uploaded = false;
    const duringUpload: { progress?: boolean; renewal?: boolean } = {};
    const upload = agentPeer.upload(offerOf(blob)).then(() => {
      uploaded = true;
    });
    session.on('message', (b) => {
      if (b.type === 'progress') duringUpload.progress = !uploaded;
    });
    client.on('message', (b) => {
      if (b.type === 'leaseRenewal') duringUpload.renewal = !uploaded;
    });
    // Once the blob is under way, a reliable message goes each way.
    await until(() => readdirSync(path.join(orchStore.root, 'tmp')).length > 0, 'the upload to start');
    client.send({
      type: 'progress',
      value: { constellationId: 'c1', taskId: 't1', attempt: 1, fraction: 0.5, message: 'x' },
    });
    session.send({ type: 'leaseRenewal', value: { constellationId: 'c1', taskId: 't1', attempt: 1, leaseMs: 1 } });
    await upload;
    // Both were delivered while the transfer was still running, not queued behind it.
    expect(duringUpload).toEqual({ progress: true, renewal: true });
    expect(orchStore.has(blob.digest)).toBe(true);
  });

  it('an artifact body on a version-1 session is AIP_UNKNOWN_MESSAGE', async () => {
    const h = await startServer(transport);
    cleanups.push(() => h.server.close());
    const client = new AipClient({
      url: h.url,
      deviceName: `v1-${transport}`,
      capabilities,
      protocolVersions: [1],
      reconnect: { initialMs: 5000, maxMs: 5000 },
    });
    cleanups.push(() => client.stop());
    const reasons: string[] = [];
    client.on('disconnect', (r) => reasons.push(r));
    client.start();
    await until(() => client.connected, 'the client to connect');
    expect(client.lastWelcome?.protocolVersion).toBe(1);
    client.send({ type: 'artifactRequest', value: { digest: 'ab'.repeat(32), offset: 0, window: 1, round: 1 } });
    await until(() => reasons.length > 0, 'the server to close the connection');
    expect(reasons[0]).toMatch(/AIP_UNKNOWN_MESSAGE/);
  });
});
