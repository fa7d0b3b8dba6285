// Artifact transfer against a hostile peer: bad digests, window and queue
// abuse, too many transfers, temp files left behind.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlobStore, sha256 } from '../src/index.js';
import { blobIn, cleanUpAfterEach, dirs, lonePeer, offerOf, statusesOf, tempStore } from './support/artifact-peers.js';
import { until } from './support/wait.js';

cleanUpAfterEach();

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
      value: {
        digest: blob.digest,
        offset: 0,
        data: blob.data,
        chunkSha256: sha256(blob.data),
        size: blob.size,
        round: 1,
      },
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
