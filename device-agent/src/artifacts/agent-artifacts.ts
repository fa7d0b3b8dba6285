// The agent's side of artifacts: a content-addressed cache under the data
// dir (a digest fetched once serves every later task on this device), inputs
// fetched into it and copied into the work dir before a task starts, outputs
// imported into it and uploaded before the task's Result is sent.
import { closeSync } from 'node:fs';
import path from 'node:path';
import {
  ArtifactError,
  ArtifactPeer,
  type ArtifactRef,
  ARTIFACTS_VERSION,
  type AipClientSession,
  type Assign,
  BlobStore,
  DEFAULT_MAX_BLOB_BYTES,
  type TaskRef,
} from '@orrery/protocol/client';
import type { Logger } from 'pino';
import { trimCache } from './cache-trim.js';
import { placeFile } from './place-file.js';
import { insideWorkDir, type OpenedOutput, openOutputFile } from './resolve-output.js';

export interface AgentArtifactOptions {
  /** Largest single artifact this agent uploads or fetches (default 1 GiB). */
  maxArtifactBytes?: number;
  /** Largest total of one attempt's output artifacts (default 4 GiB). */
  maxTotalBytes?: number;
  /** The cache drops least recently used blobs above this (default 10 GiB). */
  maxCacheBytes?: number;
  /** Tasks run as this account (runAs): input files placed for them are theirs. */
  owner?: { uid: number; gid: number };
}

export type ProgressReport = (fraction: number, message: string) => void;
/** A line for the attempt's SYSTEM log stream. */
export type Note = (text: string) => void;

const MB = 1024 * 1024;
const fmt = (n: number): string => `${(n / MB).toFixed(1)} MB`;

export class AgentArtifacts {
  readonly cache: BlobStore;
  private peer: ArtifactPeer | undefined;
  private version = 0;
  private connected = false;
  private readonly maxArtifact: number;
  private readonly maxTotal: number;
  private readonly maxCache: number;
  private readonly owner: { uid: number; gid: number } | undefined;
  /** Fetches actually made over the wire (a cache hit makes none). */
  transfers = 0;

  constructor(
    dataDir: string,
    private readonly logger: Logger,
    opts: AgentArtifactOptions = {},
  ) {
    this.cache = new BlobStore(path.join(dataDir, 'artifacts'));
    this.cache.cleanTemp();
    this.maxArtifact = opts.maxArtifactBytes ?? DEFAULT_MAX_BLOB_BYTES;
    this.maxTotal = opts.maxTotalBytes ?? 4 * 1024 * MB;
    this.maxCache = opts.maxCacheBytes ?? 10 * 1024 * MB;
    this.owner = opts.owner;
  }

  attach(session: AipClientSession): void {
    const peer = new ArtifactPeer({
      store: this.cache,
      send: (body) => {
        try {
          session.send(body);
        } catch (err) {
          this.logger.warn({ err: (err as Error).message }, 'artifact frame not sent');
        }
      },
      connected: () => this.connected,
      buffered: () => session.bufferedBytes?.() ?? 0,
      maxBlobBytes: this.maxArtifact,
      logger: this.logger,
    });
    this.peer = peer;
    session.on('welcome', (w) => {
      this.version = w.protocolVersion;
      this.connected = true;
      if (this.version >= ARTIFACTS_VERSION) peer.reconnected();
    });
    session.on('disconnect', () => {
      this.connected = false;
    });
    session.on('artifact', (body) => peer.handle(body));
  }

  /** Fetches (or finds in the cache) every artifact input and copies it into the work dir. */
  async placeInputs(a: Assign, cwd: string, report: ProgressReport, note: Note = () => {}): Promise<void> {
    const inputs = a.artifactInputs ?? [];
    if (inputs.length === 0) return;
    const peer = this.requirePeer();
    const total = inputs.reduce((n, i) => n + i.size, 0);
    let before = 0;
    for (const input of inputs) {
      insideWorkDir(cwd, input.path);
      if (!this.cache.has(input.digest)) {
        this.transfers++;
        report(total ? before / total : 0, `fetching artifact ${input.source} (${fmt(input.size)})`);
        let lastReport = 0;
        await peer.fetch(input.digest, input.size, (got) => {
          const now = Date.now();
          if (now - lastReport < 500) return;
          lastReport = now;
          report(
            total ? (before + got) / total : 0,
            `fetching artifact ${input.source}: ${fmt(got)} of ${fmt(input.size)}`,
          );
        });
        note(`artifact ${input.source} fetched (${input.size} bytes, sha256 ${input.digest}) -> ${input.path}`);
      } else {
        this.cache.touch(input.digest);
        note(`artifact ${input.source} from the local cache (sha256 ${input.digest}) -> ${input.path}`);
      }
      before += input.size;
      // A copy, not a link: the task may change its file without touching the cache.
      await placeFile(this.cache.pathOf(input.digest), cwd, input.path, this.owner);
    }
    report(-1, `${inputs.length} artifact input(s) in place`);
  }

  /**
   * Imports each output file into the cache and uploads it; returns the refs
   * once the orchestrator has confirmed every blob stored (durable).
   */
  async collectOutputs(a: Assign, cwd: string, report: ProgressReport, note: Note = () => {}): Promise<ArtifactRef[]> {
    const outputs = a.artifactOutputs ?? [];
    if (outputs.length === 0) return [];
    const peer = this.requirePeer();
    // Each output is opened (and checked) once; the import reads that fd, never the name again.
    const found: Array<{ name: string; file: OpenedOutput }> = [];
    const refs: ArtifactRef[] = [];
    try {
      for (const o of outputs) found.push({ name: o.name, file: openOutputFile(cwd, o.name, o.path) });
      let total = 0;
      for (const f of found) {
        const r = await this.cache.importFile(f.file, this.maxArtifact);
        total += r.size;
        if (total > this.maxTotal) {
          throw new ArtifactError(
            'ARTIFACT_TOO_LARGE',
            `artifacts of this attempt total ${total} bytes, over the ${this.maxTotal}-byte limit`,
          );
        }
        refs.push({ name: f.name, digest: r.digest, size: r.size });
      }
    } finally {
      for (const f of found) closeSync(f.file.fd);
    }
    const ref: TaskRef = { constellationId: a.constellationId, taskId: a.taskId, attempt: a.attempt };
    for (const r of refs) {
      report(-1, `uploading artifact ${r.name} (${fmt(r.size)})`);
      await peer.upload({ ...ref, digest: r.digest, size: r.size, name: r.name });
      note(`artifact ${r.name} stored on the orchestrator (${r.size} bytes, sha256 ${r.digest})`);
    }
    trimCache(this.cache, this.maxCache, this.logger);
    return refs;
  }

  close(): void {
    this.peer?.close();
  }

  private requirePeer(): ArtifactPeer {
    if (!this.peer) throw new ArtifactError('ARTIFACT_UNSUPPORTED', 'no session to transfer artifacts over');
    if (this.version !== 0 && this.version < ARTIFACTS_VERSION) {
      throw new ArtifactError(
        'ARTIFACT_UNSUPPORTED',
        `the orchestrator speaks AIP ${this.version}; artifacts need ${ARTIFACTS_VERSION}`,
      );
    }
    return this.peer;
  }
}
