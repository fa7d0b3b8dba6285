// Shared set-up of the artifact protocol tests: temporary blob stores, random
// blobs, and peers wired back to back (or alone) with cleanup after each test.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { ArtifactPeer, type ArtifactPeerOptions, BlobStore, type Body } from '../../src/index.js';

/** Temp dirs removed after each test by cleanUpAfterEach(). */
export const dirs: string[] = [];
/** Closed after each test, newest first, by cleanUpAfterEach(). */
export const cleanups: Array<() => unknown> = [];

/** Call once per test file: closes peers and removes temp stores after each test. */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
}

export function tempStore(): BlobStore {
  const d = mkdtempSync(path.join(tmpdir(), 'orrery-art-'));
  dirs.push(d);
  return new BlobStore(d);
}

/** A blob of random bytes put into `store`; returns its address. */
export async function blobIn(store: BlobStore, bytes: number): Promise<{ digest: string; size: number; data: Buffer }> {
  const data = randomBytes(bytes);
  const src = path.join(store.root, '..', `${path.basename(store.root)}-src.bin`);
  writeFileSync(src, data);
  const r = await store.importFile(src);
  rmSync(src);
  return { ...r, data };
}

export type Tamper = (body: Body) => Body | undefined;

/**
 * Two peers wired back to back, each frame delivered on a later tick (as a
 * socket would). `tamper` sees every frame from holder to receiver and may
 * change or drop it.
 */
export function wirePair(
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

export const offerOf = (b: { digest: string; size: number }) => ({
  digest: b.digest,
  size: b.size,
  name: 'out',
  constellationId: 'c1',
  taskId: 't1',
  attempt: 1,
});

export function storedFiles(store: BlobStore): string[] {
  return store.list().map((b) => b.digest);
}

/** One peer alone: every frame it sends is collected, frames to it are handed in by the test. */
export function lonePeer(store: BlobStore, opts: Partial<ArtifactPeerOptions> = {}) {
  const sent: Body[] = [];
  const peer = new ArtifactPeer({
    acceptOffers: true,
    ...opts,
    store,
    connected: () => true,
    send: (b) => sent.push(b),
  });
  cleanups.push(() => peer.close());
  return { peer, sent };
}

export const statusesOf = (sent: Body[]) => sent.flatMap((b) => (b.type === 'artifactStatus' ? [b.value] : []));
