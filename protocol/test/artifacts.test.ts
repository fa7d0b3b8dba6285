// Artifact transfer between two peers at the protocol level: chunking,
// per-chunk and whole-blob integrity, size limits, flow control.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArtifactError, ArtifactPeer, type BlobStore, type Body, hashFile, sha256 } from '../src/index.js';
import {
  blobIn,
  cleanUpAfterEach,
  cleanups,
  offerOf,
  storedFiles,
  tempStore,
  wirePair,
} from './support/artifact-peers.js';
import { until } from './support/wait.js';

cleanUpAfterEach();

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
    requests = wire.filter(
      (w) => w.type === 'artifactRequest' && w.value.round > 1 && w.value.offset === 400_000,
    ).length;
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
