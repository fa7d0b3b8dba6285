// Artifact transfer at the protocol level: chunking, per-chunk and whole-blob
// integrity, size limits, flow control, and transfers over a real AIP
// session (WebSocket and gRPC) that survive a cut connection.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AipClient,
  ArtifactError,
  ArtifactPeer,
  type ArtifactPeerOptions,
  BlobStore,
  type Body,
  hashFile,
  type ServerSession,
  sha256,
} from '../src/index.js';
import { capabilities, startServer, TRANSPORTS, urlFor } from './support/harness.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { until } from './support/wait.js';

const dirs: string[] = [];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempStore(): BlobStore {
  const d = mkdtempSync(path.join(tmpdir(), 'orrery-art-'));
  dirs.push(d);
  return new BlobStore(d);
}

/** A blob of random bytes put into `store`; returns its address. */
async function blobIn(store: BlobStore, bytes: number): Promise<{ digest: string; size: number; data: Buffer }> {
  const data = randomBytes(bytes);
  const src = path.join(store.root, '..', `${path.basename(store.root)}-src.bin`);
  writeFileSync(src, data);
  const r = await store.importFile(src);
  rmSync(src);
  return { ...r, data };
}

type Tamper = (body: Body) => Body | undefined;

/**
 * Two peers wired back to back, each frame delivered on a later tick (as a
 * socket would). `tamper` sees every frame from holder to receiver and may
 * change or drop it.
 */
function wirePair(
  holderStore: BlobStore,
  receiverStore: BlobStore,
  opts: Partial<ArtifactPeerOptions> = {},
  tamper: Tamper = (b) => b,
) {
  const wire: Body[] = [];
  let holder!: ArtifactPeer;
  let receiver!: ArtifactPeer;
  holder = new ArtifactPeer({
    ...opts,
    store: holderStore,
    connected: () => true,
    send: (b) => {
      wire.push(b);
      const t = tamper(b);
      if (t) setImmediate(() => receiver.handle(t));
    },
  });
  receiver = new ArtifactPeer({
    ...opts,
    store: receiverStore,
    acceptOffers: true,
    connected: () => true,
    send: (b) => {
      wire.push(b);
      setImmediate(() => holder.handle(b));
    },
  });
  cleanups.push(
    () => holder.close(),
    () => receiver.close(),
  );
  return { holder, receiver, wire };
}

const offerOf = (b: { digest: string; size: number }) => ({
  digest: b.digest,
  size: b.size,
  name: 'out',
  constellationId: 'c1',
  taskId: 't1',
  attempt: 1,
});

function storedFiles(store: BlobStore): string[] {
  return store.list().map((b) => b.digest);
}

describe('artifact transfer between two peers', () => {
  it('uploads a multi-chunk blob; the receiver stores it byte-identical under its digest', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 3 * 1024 * 1024 + 17);
    const { holder, wire } = wirePair(a, b, { chunkBytes: 256 * 1024 });
    await holder.upload(offerOf(blob));
    expect(readFileSync(b.pathOf(blob.digest)).equals(blob.data)).toBe(true);
    expect((await hashFile(b.pathOf(blob.digest))).digest).toBe(blob.digest);
    const chunks = wire.filter((w) => w.type === 'artifactChunk');
    expect(chunks.length).toBe(13); // 12 full chunks + 17 bytes
    expect(readdirSync(path.join(b.root, 'tmp'))).toEqual([]);
  });

  it('downloads a blob the receiver asks for, and a second fetch of it sends nothing', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 700_000);
    const { receiver, wire } = wirePair(a, b);
    const progress: number[] = [];
    await receiver.fetch(blob.digest, blob.size, (got) => progress.push(got));
    expect(readFileSync(b.pathOf(blob.digest)).equals(blob.data)).toBe(true);
    expect(progress.at(-1)).toBe(blob.size);
    const before = wire.length;
    await receiver.fetch(blob.digest, blob.size);
    expect(wire.length).toBe(before);
  });

  it('transfers an empty blob', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 0);
    const { receiver } = wirePair(a, b);
    await receiver.fetch(blob.digest, 0);
    expect(b.sizeOf(blob.digest)).toBe(0);
  });

  it('refuses a damaged chunk and asks for it again; the stored blob is correct', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 1024 * 1024);
    let damaged = 0;
    const { holder } = wirePair(a, b, { chunkBytes: 128 * 1024 }, (body) => {
      if (body.type === 'artifactChunk' && body.value.offset === 256 * 1024 && damaged === 0) {
        damaged++;
        const data = Buffer.from(body.value.data);
        data[10] = (data[10] ?? 0) ^ 0xff;
        return { type: 'artifactChunk', value: { ...body.value, data } };
      }
      return body;
    });
    await holder.upload(offerOf(blob));
    expect(damaged).toBe(1);
    expect((await hashFile(b.pathOf(blob.digest))).digest).toBe(blob.digest);
  });

  it('gives up with ARTIFACT_INTEGRITY when every copy of a chunk is damaged, and stores nothing', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 600_000);
    const { holder } = wirePair(a, b, { chunkBytes: 100_000, maxRetries: 2 }, (body) => {
      if (body.type === 'artifactChunk' && body.value.offset === 300_000) {
        // Data and its checksum both altered consistently would pass the chunk check; here only the data is.
        const data = Buffer.from(body.value.data);
        data[0] = (data[0] ?? 0) ^ 1;
        return { type: 'artifactChunk', value: { ...body.value, data } };
      }
      return body;
    });
    const err = await holder.upload(offerOf(blob)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArtifactError);
    expect((err as ArtifactError).code).toBe('ARTIFACT_INTEGRITY');
    expect(storedFiles(b)).toEqual([]);
    await until(() => readdirSync(path.join(b.root, 'tmp')).length === 0, 'the partial file to go');
  });

  it('catches a blob whose chunks are each consistent but whose whole digest is wrong', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 300_000);
    // A holder that rewrites a chunk together with its checksum: only the whole-blob check can tell.
    const { holder } = wirePair(a, b, { chunkBytes: 100_000, maxRetries: 1 }, (body) => {
      if (body.type === 'artifactChunk' && body.value.offset === 100_000) {
        const data = Buffer.alloc(body.value.data.byteLength, 7);
        return { type: 'artifactChunk', value: { ...body.value, data, chunkSha256: sha256(data) } };
      }
      return body;
    });
    const err = (await holder.upload(offerOf(blob)).catch((e: unknown) => e)) as ArtifactError;
    expect(err.code).toBe('ARTIFACT_INTEGRITY');
    expect(err.message).toMatch(/hashes to/);
    expect(storedFiles(b)).toEqual([]);
  });

  it('a truncated stream (the last chunk never arrives) stalls, is re-requested, then fails; nothing stored', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 500_000);
    let requests = 0;
    const { receiver, wire } = wirePair(a, b, { chunkBytes: 100_000, stallMs: 60, maxRetries: 2 }, (body) => {
      if (body.type === 'artifactChunk' && body.value.offset === 400_000) return undefined;
      return body;
    });
    const err = (await receiver.fetch(blob.digest, blob.size).catch((e: unknown) => e)) as ArtifactError;
    requests = wire.filter((w) => w.type === 'artifactRequest' && w.value.round > 1 && w.value.offset === 400_000).length;
    expect(err.code).toBe('ARTIFACT_INTEGRITY');
    expect(requests).toBe(2); // one new round per retry, each from the bytes held
    expect(storedFiles(b)).toEqual([]);
  });

  it('a chunk running past the stated size is refused', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 200_000);
    const { receiver } = wirePair(a, b, { chunkBytes: 100_000 }, (body) => {
      if (body.type === 'artifactChunk') return { type: 'artifactChunk', value: { ...body.value, size: 150_000 } };
      return body;
    });
    const err = (await receiver.fetch(blob.digest, -1).catch((e: unknown) => e)) as ArtifactError;
    expect(err.code).toBe('ARTIFACT_INTEGRITY');
    expect(storedFiles(b)).toEqual([]);
  });

  it('refuses an oversized offer with ARTIFACT_TOO_LARGE before any data moves', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 2 * 1024 * 1024);
    const { holder, wire } = wirePair(a, b, { maxBlobBytes: 1024 * 1024 });
    const err = (await holder.upload(offerOf(blob)).catch((e: unknown) => e)) as ArtifactError;
    expect(err.code).toBe('ARTIFACT_TOO_LARGE');
    expect(wire.some((w) => w.type === 'artifactChunk')).toBe(false);
  });

  it('refuses an oversized download when the holder states the size', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 300_000);
    const { receiver } = wirePair(a, b, { maxBlobBytes: 100_000 });
    const err = (await receiver.fetch(blob.digest, -1).catch((e: unknown) => e)) as ArtifactError;
    expect(err.code).toBe('ARTIFACT_TOO_LARGE');
    await expect(receiver.fetch(blob.digest, 300_000)).rejects.toMatchObject({ code: 'ARTIFACT_TOO_LARGE' });
    expect(storedFiles(b)).toEqual([]);
  });

  it('a receiver that starts over after a reconnect (a restarted orchestrator) is served from its offset at once', async () => {
    const a = tempStore();
    const blob = await blobIn(a, 2 * 1024 * 1024);
    let target: ArtifactPeer | undefined;
    let cut = false;
    const sent: Body[] = [];
    const holder = new ArtifactPeer({
      store: a,
      chunkBytes: 64 * 1024,
      windowBytes: 256 * 1024,
      connected: () => !cut,
      send: (b) => {
        if (cut) return;
        sent.push(b);
        const to = target;
        setImmediate(() => to?.handle(b));
      },
    });
    const receiverOn = (store: BlobStore) =>
      new ArtifactPeer({
        store,
        acceptOffers: true,
        stallMs: 60_000, // a stall retry would take a minute: the test would time out
        connected: () => !cut,
        send: (b) => {
          if (!cut) setImmediate(() => holder.handle(b));
        },
      });
    const first = receiverOn(tempStore());
    cleanups.push(
      () => holder.close(),
      () => first.close(),
    );
    target = first;
    const upload = holder.upload(offerOf(blob));
    await until(() => sent.filter((b) => b.type === 'artifactChunk').length >= 6, 'part of the blob to move');
    // The connection drops; the receiving side comes back as a new process with no memory of the transfer.
    cut = true;
    first.close();
    await new Promise((r) => setTimeout(r, 20));
    const fresh = tempStore();
    const second = receiverOn(fresh);
    cleanups.push(() => second.close());
    target = second;
    cut = false;
    holder.reconnected();
    await upload;
    expect(readFileSync(fresh.pathOf(blob.digest)).equals(blob.data)).toBe(true);
  });

  it('answers a request for an unknown digest with ARTIFACT_NOT_FOUND', async () => {
    const { receiver } = wirePair(tempStore(), tempStore());
    await expect(receiver.fetch('ab'.repeat(32), 10)).rejects.toMatchObject({ code: 'ARTIFACT_NOT_FOUND' });
  });

  it('never sends beyond the credit the receiver granted', async () => {
    const a = tempStore();
    const b = tempStore();
    const blob = await blobIn(a, 4 * 1024 * 1024);
    const window = 512 * 1024;
    const { holder, wire } = wirePair(a, b, { chunkBytes: 64 * 1024, windowBytes: window });
    await holder.upload(offerOf(blob));
    // Replay the wire in order: every chunk must end within the latest request's offset + window.
    let limit = 0;
    let chunks = 0;
    for (const w of wire) {
      if (w.type === 'artifactRequest') limit = Math.max(limit, w.value.offset + w.value.window);
      if (w.type === 'artifactChunk') {
        chunks++;
        expect(w.value.offset + w.value.data.byteLength).toBeLessThanOrEqual(limit);
      }
    }
    expect(chunks).toBe(64);
  });
});

/** One peer alone: every frame it sends is collected, frames to it are handed in by the test. */
function lonePeer(store: BlobStore, opts: Partial<ArtifactPeerOptions> = {}) {
  const sent: Body[] = [];
  const peer = new ArtifactPeer({ acceptOffers: true, ...opts, store, connected: () => true, send: (b) => sent.push(b) });
  cleanups.push(() => peer.close());
  return { peer, sent };
}

const statusesOf = (sent: Body[]) =>
  sent.flatMap((b) => (b.type === 'artifactStatus' ? [b.value] : []));

describe('artifact transfer refuses what a hostile peer sends', () => {
  const evil = '../../../../escaped/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

  it('refuses an offer whose digest is not a sha256 (a path), writing nothing outside the store', async () => {
    const store = tempStore();
    const { peer, sent } = lonePeer(store);
    const data = Buffer.from('hello');
    peer.handle({ type: 'artifactOffer', value: { ...offerOf({ digest: evil, size: data.length }) } });
    peer.handle({
      type: 'artifactChunk',
      value: { digest: evil, offset: 0, data, chunkSha256: sha256(data), size: data.length, round: 1 },
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(sent.filter((b) => b.type === 'artifactRequest')).toEqual([]);
    expect(statusesOf(sent)).toEqual([expect.objectContaining({ digest: evil, code: 'ARTIFACT_BAD_DIGEST' })]);
    expect(existsSync(path.resolve(store.root, 'tmp', evil.slice(0, 16)))).toBe(false);
    expect(readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('fetch and BlobStore.begin reject a non-digest with ARTIFACT_BAD_DIGEST', async () => {
    const store = tempStore();
    const { peer, sent } = lonePeer(store);
    await expect(peer.fetch(evil, 5)).rejects.toMatchObject({ code: 'ARTIFACT_BAD_DIGEST' });
    expect(sent).toEqual([]);
    await expect(store.begin(evil, 5)).rejects.toMatchObject({ code: 'ARTIFACT_BAD_DIGEST' });
    expect(readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('removes the temp file when the verified blob cannot be installed', async () => {
    const store = tempStore();
    const data = randomBytes(1000);
    const digest = sha256(data).toString('hex');
    // The shard folder cannot be made (a file is in its place): install fails after the digest checked out.
    writeFileSync(path.join(store.root, 'sha256', digest.slice(0, 2)), 'in the way');
    const partial = await store.begin(digest, data.length);
    await partial.append(data);
    await expect(partial.commit()).rejects.toThrow();
    expect(readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
  });

  it('removes the temp file a transfer opened while it was failing (the session ended during begin)', async () => {
    const holderStore = tempStore();
    const blob = await blobIn(holderStore, 1000);
    // The receiver's store opens temp files slowly: the session ends while one is being opened.
    let opened!: () => void;
    const gate = new Promise<void>((r) => {
      opened = r;
    });
    let begun = false;
    const d = mkdtempSync(path.join(tmpdir(), 'orrery-art-'));
    dirs.push(d);
    const store = new (class extends BlobStore {
      override async begin(digest: string, size: number) {
        const partial = await super.begin(digest, size);
        begun = true;
        await gate;
        return partial;
      }
    })(d);
    const { peer, sent } = lonePeer(store);
    peer.handle({ type: 'artifactOffer', value: offerOf(blob) });
    peer.handle({
      type: 'artifactChunk',
      value: { digest: blob.digest, offset: 0, data: blob.data, chunkSha256: sha256(blob.data), size: blob.size, round: 1 },
    });
    await until(() => begun, 'the temp file to be opened');
    peer.close();
    opened();
    await until(() => readdirSync(path.join(store.root, 'tmp')).length === 0, 'the temp file to go', 2000);
    expect(store.has(blob.digest)).toBe(false);
    expect(statusesOf(sent).filter((x) => x.code === '')).toEqual([]);
  });

  it('ends a transfer with ARTIFACT_FLOW_CONTROL when the holder sends past the granted window; nothing stored', async () => {
    const holderStore = tempStore();
    const store = tempStore();
    const blob = await blobIn(holderStore, 4 * 1024 * 1024);
    const window = 256 * 1024;
    const { peer, sent } = lonePeer(store, { windowBytes: window });
    peer.handle({ type: 'artifactOffer', value: offerOf(blob) });
    const req = sent.find((b) => b.type === 'artifactRequest');
    expect(req?.type === 'artifactRequest' && req.value.window).toBe(window);
    // A hostile holder pushes the whole blob at once, ignoring the credit.
    const step = 64 * 1024;
    for (let off = 0; off < blob.size; off += step) {
      const data = blob.data.subarray(off, off + step);
      peer.handle({
        type: 'artifactChunk',
        value: { digest: blob.digest, offset: off, data, chunkSha256: sha256(data), size: blob.size, round: 1 },
      });
    }
    await until(() => statusesOf(sent).length > 0, 'the transfer to end');
    await new Promise((r) => setTimeout(r, 20));
    expect(statusesOf(sent)).toEqual([expect.objectContaining({ digest: blob.digest, code: 'ARTIFACT_FLOW_CONTROL' })]);
    expect(store.has(blob.digest)).toBe(false);
    expect(readdirSync(path.join(store.root, 'tmp'))).toEqual([]);
    expect(peer.receiver.active).toBe(0);
  });

  it('ends a transfer flooded with repeats of one in-window chunk (queued bytes are capped)', async () => {
    const holderStore = tempStore();
    const store = tempStore();
    const blob = await blobIn(holderStore, 1024 * 1024);
    const { peer, sent } = lonePeer(store, { windowBytes: 256 * 1024 });
    peer.handle({ type: 'artifactOffer', value: offerOf(blob) });
    const data = blob.data.subarray(0, 128 * 1024);
    for (let i = 0; i < 200; i++) {
      peer.handle({
        type: 'artifactChunk',
        value: { digest: blob.digest, offset: 0, data, chunkSha256: sha256(data), size: blob.size, round: 1 },
      });
    }
    await until(() => statusesOf(sent).length > 0, 'the transfer to end');
    expect(statusesOf(sent)[0]).toMatchObject({ code: 'ARTIFACT_FLOW_CONTROL' });
  });

  it('refuses an offer beyond the transfers one session may have in progress, with ARTIFACT_REFUSED', async () => {
    const store = tempStore();
    const { peer, sent } = lonePeer(store, { maxTransfers: 2 });
    const digests = ['a', 'b', 'c'].map((ch) => ch.repeat(64));
    for (const digest of digests) peer.handle({ type: 'artifactOffer', value: offerOf({ digest, size: 10 }) });
    expect(sent.filter((b) => b.type === 'artifactRequest')).toHaveLength(2);
    expect(statusesOf(sent)).toEqual([expect.objectContaining({ digest: digests[2], code: 'ARTIFACT_REFUSED' })]);
  });

  it('a holder caps the window a receiver asks for at 2 MiB', async () => {
    const store = tempStore();
    const blob = await blobIn(store, 8 * 1024 * 1024);
    const { peer, sent } = lonePeer(store, { acceptOffers: false });
    peer.handle({
      type: 'artifactRequest',
      value: { digest: blob.digest, offset: 0, window: 48 * 1024 * 1024, round: 1 },
    });
    await until(() => sent.length >= 8, 'the first 2 MiB of chunks');
    await new Promise((r) => setTimeout(r, 50));
    const chunks = sent.flatMap((b) => (b.type === 'artifactChunk' ? [b.value] : []));
    expect(chunks.reduce((n, c) => n + c.data.byteLength, 0)).toBe(2 * 1024 * 1024);
  });

  it('a holder sends no chunk while the connection still buffers unsent bytes, and resumes once it drains', async () => {
    const store = tempStore();
    const blob = await blobIn(store, 1024 * 1024);
    let buffered = 64 * 1024 * 1024;
    const { peer, sent } = lonePeer(store, { acceptOffers: false, buffered: () => buffered });
    peer.handle({ type: 'artifactRequest', value: { digest: blob.digest, offset: 0, window: 1024 * 1024, round: 1 } });
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.filter((b) => b.type === 'artifactChunk')).toEqual([]);
    buffered = 0;
    await until(() => sent.filter((b) => b.type === 'artifactChunk').length === 4, 'all four chunks');
  });
});

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
