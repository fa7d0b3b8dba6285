// The holding side of artifact transfers: answers ArtifactRequest with
// chunks read from the store, never beyond the credit the receiver granted,
// one read at a time (so memory stays at about one chunk per transfer).
// Uploads start with an ArtifactOffer and end when the receiver's
// ArtifactStatus says the blob is stored.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { type AipLogger, silentLogger } from '../logger.js';
import type { ArtifactOffer, ArtifactRequest, ArtifactStatus } from '../messages.js';
import { ArtifactError, artifactCode } from './artifact-error.js';
import { sha256 } from './digest.js';
import {
  type ArtifactPeerOptions,
  DEFAULT_CHUNK_BYTES,
  MAX_WINDOW_BYTES,
  SEND_HIGH_WATER_BYTES,
} from './transfer-options.js';

interface Outgoing {
  digest: string;
  size: number;
  round: number;
  next: number;
  limit: number;
  fh: FileHandle | undefined;
  pumping: boolean;
  /** A zero-byte blob still needs one (empty) chunk. */
  emptySent: boolean;
  lastRequestAt: number;
}

interface Upload {
  offer: ArtifactOffer;
  done: Promise<void>;
  resolve(): void;
  reject(err: ArtifactError): void;
}

/** Serving state of a transfer nobody asked about for this long is dropped. */
const IDLE_MS = 120_000;
/** How often a holder held back by a full connection buffer looks again. */
const DRAIN_POLL_MS = 5;

export class ArtifactSender {
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly uploads = new Map<string, Upload>();
  private readonly chunkBytes: number;
  private readonly log: AipLogger;
  private readonly timer: NodeJS.Timeout;
  /** Bytes sent as chunk data (for metrics and benchmarks). */
  bytesSent = 0;

  constructor(private readonly opts: ArtifactPeerOptions) {
    this.chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.log = opts.logger ?? silentLogger;
    this.timer = setInterval(() => this.dropIdle(), IDLE_MS / 4);
    this.timer.unref();
  }

  /**
   * Offers a stored blob to the peer; resolves when the peer has stored it
   * (digest checked, durable), rejects with the peer's ArtifactError code.
   */
  upload(offer: ArtifactOffer): Promise<void> {
    const existing = this.uploads.get(offer.digest);
    if (existing) return existing.done;
    if (this.opts.store.sizeOf(offer.digest) !== offer.size) {
      return Promise.reject(new ArtifactError('ARTIFACT_NOT_FOUND', `blob ${offer.digest} is not in the local store`));
    }
    let resolve!: () => void;
    let reject!: (err: ArtifactError) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.uploads.set(offer.digest, { offer, done, resolve, reject });
    this.opts.send({ type: 'artifactOffer', value: offer });
    return done;
  }

  onRequest(req: ArtifactRequest): void {
    const refused = this.outgoing.has(req.digest) ? undefined : this.opts.mayServe?.(req.digest);
    if (refused) {
      this.opts.send({ type: 'artifactStatus', value: { digest: req.digest, code: 'ARTIFACT_REFUSED', message: refused } });
      return;
    }
    const size = this.opts.store.sizeOf(req.digest);
    if (size === undefined) {
      this.opts.send({
        type: 'artifactStatus',
        value: { digest: req.digest, code: 'ARTIFACT_NOT_FOUND', message: `no blob ${req.digest} here` },
      });
      return;
    }
    let st = this.outgoing.get(req.digest);
    if (!st) {
      st = {
        digest: req.digest,
        size,
        round: 0,
        next: 0,
        limit: 0,
        fh: undefined,
        pumping: false,
        emptySent: false,
        lastRequestAt: 0,
      };
      this.outgoing.set(req.digest, st);
    }
    st.lastRequestAt = Date.now();
    // Whatever credit the receiver asks for, at most MAX_WINDOW_BYTES go out beyond what it holds.
    const window = Math.min(Math.max(0, req.window), MAX_WINDOW_BYTES);
    const offset = Math.min(Math.max(0, req.offset), size);
    if (req.round !== st.round) {
      // A new round restarts from where the receiver stands.
      st.round = req.round;
      st.next = offset;
      st.limit = offset + window;
      st.emptySent = false;
    } else {
      // The receiver cannot hold more than we sent: credit counts from what it really has.
      st.limit = Math.max(st.limit, Math.min(offset, st.next) + window);
    }
    void this.pump(st);
  }

  /** The receiver stored the blob (code '') or gave up: stop serving it. */
  onStatus(status: ArtifactStatus): boolean {
    const st = this.outgoing.get(status.digest);
    if (st) this.release(st);
    if (status.code === '' && (st || this.uploads.has(status.digest))) this.opts.onDelivered?.(status.digest);
    const up = this.uploads.get(status.digest);
    if (up) {
      this.uploads.delete(status.digest);
      if (status.code === '') up.resolve();
      else up.reject(new ArtifactError(artifactCode(status.code), status.message || status.code));
    }
    return st !== undefined || up !== undefined;
  }

  has(digest: string): boolean {
    return this.outgoing.has(digest) || this.uploads.has(digest);
  }

  /**
   * A new connection: serving state is dropped (the receiver asks again, and
   * may be a new incarnation whose rounds start over), and uploads not yet
   * confirmed are offered again (the receiver resumes or restarts them).
   */
  reconnected(): void {
    for (const st of [...this.outgoing.values()]) this.release(st);
    for (const up of this.uploads.values()) this.opts.send({ type: 'artifactOffer', value: up.offer });
  }

  close(): void {
    clearInterval(this.timer);
    for (const st of [...this.outgoing.values()]) this.release(st);
    for (const up of this.uploads.values())
      up.reject(new ArtifactError('ARTIFACT_ABORTED', 'upload abandoned: the session ended'));
    this.uploads.clear();
  }

  private async pump(st: Outgoing): Promise<void> {
    if (st.pumping) return;
    st.pumping = true;
    try {
      while (this.outgoing.get(st.digest) === st && this.opts.connected()) {
        const round = st.round;
        const offset = st.next;
        const end = Math.min(st.limit, st.size);
        if (st.size === 0 ? st.emptySent : offset >= end) break;
        const len = Math.min(this.chunkBytes, st.size - offset);
        st.fh ??= await open(this.opts.store.pathOf(st.digest), 'r');
        const data = Buffer.allocUnsafe(len);
        let got = 0;
        while (got < len) {
          const { bytesRead } = await st.fh.read(data, got, len - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        if (got < len) throw new Error(`blob ends at ${offset + got} of ${st.size} bytes`);
        if (round !== st.round || this.outgoing.get(st.digest) !== st) continue; // rewound or released meanwhile
        // Backpressure: wait while the connection still holds unsent bytes, so a slow link
        // holds the transfer back instead of piling chunks up in the socket's buffer.
        await this.writable();
        if (round !== st.round || this.outgoing.get(st.digest) !== st || !this.opts.connected()) continue;
        const chunk = data;
        this.opts.send({
          type: 'artifactChunk',
          value: { digest: st.digest, offset, data: chunk, chunkSha256: sha256(chunk), size: st.size, round },
        });
        this.bytesSent += chunk.length;
        if (st.size === 0) st.emptySent = true;
        st.next = offset + len;
      }
    } catch (err) {
      // Released meanwhile (a new connection closed its file): nothing to report.
      if (this.outgoing.get(st.digest) !== st) return;
      this.log.warn({ digest: st.digest, err: (err as Error).message }, 'artifact read failed');
      this.opts.send({
        type: 'artifactStatus',
        value: {
          digest: st.digest,
          code: 'ARTIFACT_NOT_FOUND',
          message: `cannot read blob: ${(err as Error).message}`,
        },
      });
      this.release(st);
    } finally {
      st.pumping = false;
    }
  }

  private async writable(): Promise<void> {
    const buffered = this.opts.buffered;
    if (!buffered) return;
    while (buffered() > SEND_HIGH_WATER_BYTES && this.opts.connected()) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  }

  private release(st: Outgoing): void {
    if (this.outgoing.get(st.digest) === st) this.outgoing.delete(st.digest);
    const fh = st.fh;
    st.fh = undefined;
    void fh?.close().catch(() => undefined);
  }

  private dropIdle(): void {
    const now = Date.now();
    for (const st of [...this.outgoing.values()]) if (!st.pumping && now - st.lastRequestAt > IDLE_MS) this.release(st);
  }
}
