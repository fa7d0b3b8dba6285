// The receiving side of artifact transfers: pulls a blob with
// ArtifactRequest, checks each chunk's sha256, appends in order to a temp
// file, and stores the blob only when the whole digest matches. Credit (the
// window) bounds the bytes in flight, so a large blob never fills memory and
// never holds up heartbeats or results on the same connection.
import { type AipLogger, silentLogger } from '../logger.js';
import type { ArtifactChunk, ArtifactOffer, ArtifactStatus } from '../messages.js';
import { ArtifactError, type ArtifactErrorCode, artifactCode } from './artifact-error.js';
import type { PartialBlob } from './blob-store.js';
import { isDigest, sha256 } from './digest.js';
import {
  type ArtifactPeerOptions,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_MAX_TRANSFERS,
  DEFAULT_WINDOW_BYTES,
  MAX_QUEUED_CHUNKS,
  MAX_WINDOW_BYTES,
} from './transfer-options.js';

export type ProgressListener = (received: number, size: number) => void;

interface Incoming {
  digest: string;
  /** -1 until the holder states it (first chunk) when the receiver did not know it. */
  size: number;
  round: number;
  expected: number;
  /** The credit last granted: the holder may send up to here. */
  granted: number;
  partial: PartialBlob | undefined;
  retries: number;
  lastProgressAt: number;
  /** Chunks are written one after another. */
  queue: Promise<void>;
  /** Chunks (and their bytes) of the current round waiting in `queue`: bounded, so a holder ignoring the window cannot fill memory. */
  queuedChunks: number;
  queuedBytes: number;
  listeners: ProgressListener[];
  done: Promise<void>;
  resolve(): void;
  reject(err: ArtifactError): void;
  finished: boolean;
}

export class ArtifactReceiver {
  private readonly incoming = new Map<string, Incoming>();
  private readonly window: number;
  private readonly maxBlob: number;
  private readonly maxRetries: number;
  private readonly stallMs: number;
  private readonly log: AipLogger;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: ArtifactPeerOptions) {
    this.window = Math.min(opts.windowBytes ?? DEFAULT_WINDOW_BYTES, MAX_WINDOW_BYTES);
    this.maxBlob = opts.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;
    this.maxRetries = opts.maxRetries ?? 3;
    this.stallMs = opts.stallMs ?? 10_000;
    this.log = opts.logger ?? silentLogger;
    this.timer = setInterval(() => this.checkStalls(), Math.max(50, this.stallMs / 2));
    this.timer.unref();
  }

  get active(): number {
    return this.incoming.size;
  }

  /** Resolves once `digest` is in the store (at once if it already is). */
  fetch(digest: string, size: number, onProgress?: ProgressListener): Promise<void> {
    if (!isDigest(digest)) return Promise.reject(badDigest(digest));
    if (this.opts.store.has(digest)) {
      this.opts.store.touch(digest);
      return Promise.resolve();
    }
    const existing = this.incoming.get(digest);
    if (existing) {
      if (onProgress) existing.listeners.push(onProgress);
      return existing.done;
    }
    if (size > this.maxBlob) {
      return Promise.reject(tooLarge(digest, size, this.maxBlob));
    }
    const st = this.create(digest, size);
    if (onProgress) st.listeners.push(onProgress);
    this.request(st);
    return st.done;
  }

  /** The peer offers a blob (upload): take it, say we have it, or refuse it. */
  onOffer(offer: ArtifactOffer): void {
    const { digest, size } = offer;
    // The digest names files in the store: anything else never gets that far.
    if (!isDigest(digest)) {
      this.status(digest, 'ARTIFACT_BAD_DIGEST', badDigest(digest).message);
      return;
    }
    const refused = this.opts.mayReceive?.(offer);
    if (refused) {
      this.status(digest, 'ARTIFACT_REFUSED', refused);
      return;
    }
    if (this.opts.store.sizeOf(digest) === size) {
      this.opts.store.touch(digest);
      this.status(digest, '', 'already stored');
      return;
    }
    if (size > this.maxBlob) {
      this.status(digest, 'ARTIFACT_TOO_LARGE', tooLarge(digest, size, this.maxBlob).message);
      return;
    }
    const existing = this.incoming.get(digest);
    if (existing) {
      // Offered again after a reconnect: resume from the bytes held.
      this.rewind(existing);
      return;
    }
    const max = this.opts.maxTransfers ?? DEFAULT_MAX_TRANSFERS;
    if (this.incoming.size >= max) {
      this.status(digest, 'ARTIFACT_REFUSED', `${max} transfers are already in progress on this session; offer it again later`);
      return;
    }
    const st = this.create(digest, size);
    st.done.catch(() => undefined); // the holder learns the outcome from ArtifactStatus
    this.request(st);
  }

  onChunk(chunk: ArtifactChunk): void {
    if (!isDigest(chunk.digest)) return; // never asked for: dropped
    const st = this.incoming.get(chunk.digest);
    if (!st || st.finished || chunk.round !== st.round) return; // stale or unknown: dropped
    const len = chunk.data.byteLength;
    // Enforce the credit we granted: a holder sending past it (or flooding us) ends the transfer.
    if (chunk.offset + len > st.granted) {
      void this.fail(st, flowControl(`chunk [${chunk.offset}, ${chunk.offset + len}) runs past the ${st.granted} bytes granted`));
      return;
    }
    if (st.queuedChunks + 1 > MAX_QUEUED_CHUNKS || st.queuedBytes + len > 2 * this.window) {
      void this.fail(st, flowControl(`more than ${st.queuedChunks} chunks / ${st.queuedBytes} bytes in flight beyond the window`));
      return;
    }
    st.queuedChunks++;
    st.queuedBytes += len;
    const round = chunk.round;
    st.queue = st.queue
      .then(() => this.take(st, chunk))
      .finally(() => {
        // A rewind reset the count for its new round; older chunks no longer count.
        if (st.round === round) {
          st.queuedChunks--;
          st.queuedBytes -= len;
        }
      })
      .catch((err) => this.fail(st, err));
  }

  /** The holder cannot serve a blob we asked for. */
  onStatus(status: ArtifactStatus): boolean {
    const st = this.incoming.get(status.digest);
    if (!st || status.code === '') return false;
    void this.fail(st, new ArtifactError(artifactCode(status.code), status.message || status.code), false);
    return true;
  }

  has(digest: string): boolean {
    return this.incoming.has(digest);
  }

  /** A new connection: every transfer asks again from the bytes it holds. */
  reconnected(): void {
    for (const st of this.incoming.values()) this.rewind(st);
  }

  close(): void {
    clearInterval(this.timer);
    for (const st of [...this.incoming.values()]) {
      void this.fail(st, new ArtifactError('ARTIFACT_ABORTED', 'transfer abandoned: the session ended'), false);
    }
  }

  private create(digest: string, size: number): Incoming {
    let resolve!: () => void;
    let reject!: (err: ArtifactError) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const st: Incoming = {
      digest,
      size,
      round: 1,
      expected: 0,
      granted: 0,
      partial: undefined,
      retries: 0,
      lastProgressAt: Date.now(),
      queue: Promise.resolve(),
      queuedChunks: 0,
      queuedBytes: 0,
      listeners: [],
      done,
      resolve,
      reject,
      finished: false,
    };
    this.incoming.set(digest, st);
    return st;
  }

  private async take(st: Incoming, chunk: ArtifactChunk): Promise<void> {
    // The round may have moved on while this chunk waited its turn.
    if (st.finished || chunk.round !== st.round || chunk.offset !== st.expected) return;
    if (st.size < 0) {
      if (chunk.size > this.maxBlob) throw tooLarge(st.digest, chunk.size, this.maxBlob);
      st.size = chunk.size;
    } else if (chunk.size !== st.size) {
      throw new ArtifactError('ARTIFACT_INTEGRITY', `holder says ${chunk.size} bytes, expected ${st.size}`);
    }
    const data = chunk.data;
    if (chunk.offset + data.byteLength > st.size) {
      throw new ArtifactError('ARTIFACT_INTEGRITY', `chunk at ${chunk.offset} runs past the blob's ${st.size} bytes`);
    }
    if (!sha256(data).equals(Buffer.from(chunk.chunkSha256))) {
      this.retry(st, `chunk at offset ${chunk.offset} is damaged (sha256 mismatch)`);
      return;
    }
    if (!st.partial) {
      const partial = await this.opts.store.begin(st.digest, st.size);
      // Failed (or closed) while the temp file opened: nobody else will remove it.
      if (st.finished) {
        await partial.abort().catch(() => undefined);
        return;
      }
      st.partial = partial;
    }
    await st.partial.append(data);
    if (st.finished) return; // failed meanwhile: fail() removed the temp file
    st.expected += data.byteLength;
    st.lastProgressAt = Date.now();
    for (const l of st.listeners) l(st.expected, st.size);
    if (st.expected < st.size) {
      // Extend the credit once half of it is used: half the frames of a grant per chunk, same bound on memory.
      if (st.granted - st.expected <= this.window / 2) this.request(st);
      return;
    }
    const partial = st.partial;
    st.partial = undefined;
    try {
      await partial.commit();
    } catch (err) {
      if (!(err instanceof ArtifactError) || err.code !== 'ARTIFACT_INTEGRITY') throw storeFailed(err);
      // The whole blob is wrong although every chunk was right (a lying holder or a bad disk): start over.
      st.expected = 0;
      this.retry(st, err.message);
      return;
    }
    if (st.finished) return; // failed (and reported) meanwhile; the verified blob stays stored
    st.finished = true;
    this.incoming.delete(st.digest);
    this.opts.onStored?.(st.digest, st.size);
    this.status(st.digest, '', 'stored');
    st.resolve();
  }

  private retry(st: Incoming, why: string): void {
    st.retries++;
    this.log.warn({ digest: st.digest, retries: st.retries, why }, 'artifact transfer retry');
    if (st.retries > this.maxRetries) {
      throw new ArtifactError('ARTIFACT_INTEGRITY', `${why}; gave up after ${this.maxRetries} retries`);
    }
    this.rewind(st);
  }

  /** Restarts the stream from the bytes held, under a new round (older chunks are dropped). */
  private rewind(st: Incoming): void {
    st.round++;
    st.queuedChunks = 0;
    st.queuedBytes = 0;
    st.lastProgressAt = Date.now();
    this.request(st);
  }

  private request(st: Incoming): void {
    st.granted = st.expected + this.window;
    this.opts.send({
      type: 'artifactRequest',
      value: { digest: st.digest, offset: st.expected, window: this.window, round: st.round },
    });
  }

  private async fail(st: Incoming, err: unknown, tellHolder = true): Promise<void> {
    if (st.finished) return;
    st.finished = true;
    this.incoming.delete(st.digest);
    const e = err instanceof ArtifactError ? err : storeFailed(err);
    const partial = st.partial;
    st.partial = undefined;
    await partial?.abort().catch(() => undefined);
    this.log.warn({ digest: st.digest, code: e.code, message: e.message }, 'artifact transfer failed');
    if (tellHolder) this.status(st.digest, e.code, e.message);
    st.reject(e);
  }

  private checkStalls(): void {
    if (!this.opts.connected()) return;
    const now = Date.now();
    for (const st of this.incoming.values()) {
      if (st.finished || now - st.lastProgressAt < this.stallMs) continue;
      try {
        this.retry(st, `no data for ${this.stallMs} ms`);
      } catch (err) {
        void this.fail(st, err);
      }
    }
  }

  private status(digest: string, code: ArtifactErrorCode | '', message: string): void {
    this.opts.send({ type: 'artifactStatus', value: { digest, code, message } });
  }
}

function tooLarge(digest: string, size: number, max: number): ArtifactError {
  return new ArtifactError(
    'ARTIFACT_TOO_LARGE',
    `artifact ${digest.slice(0, 12)} is ${size} bytes, over the ${max}-byte limit`,
  );
}

function badDigest(digest: string): ArtifactError {
  return new ArtifactError('ARTIFACT_BAD_DIGEST', `not a sha256 digest (64 lower-case hex): ${JSON.stringify(digest.slice(0, 80))}`);
}

function flowControl(why: string): ArtifactError {
  return new ArtifactError('ARTIFACT_FLOW_CONTROL', `the holder ignored the transfer window: ${why}`);
}

function storeFailed(err: unknown): ArtifactError {
  if (err instanceof ArtifactError) return err;
  return new ArtifactError('ARTIFACT_STORE_FAILED', `could not store the artifact: ${(err as Error).message}`, {
    cause: err,
  });
}
