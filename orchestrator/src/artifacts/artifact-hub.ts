// The orchestrator's artifacts: one content-addressed store under the data
// dir, one transfer peer per agent session (uploads in, downloads out), the
// check that a Result names only stored blobs, and retention.
import path from 'node:path';
import {
  ArtifactPeer,
  type ArtifactRef,
  ARTIFACTS_VERSION,
  BlobStore,
  DEFAULT_MAX_BLOB_BYTES,
  type ServerSession,
} from '@orrery/protocol';
import type { Logger } from 'pino';
import { counter, gauge } from '../engine/metrics.js';
import type { ArtifactRecord } from '../model/types.js';
import { planEviction, type RetentionPolicy } from './retention.js';
import type { ArtifactAccess } from './transfer-access.js';

export interface ArtifactHubOptions {
  dataDir: string;
  logger: Logger;
  /** Largest single artifact accepted (default 1 GiB). */
  maxArtifactBytes?: number;
  retention?: Partial<RetentionPolicy>;
  /** Digests some kept constellation references (never evicted). */
  referenced(): Set<string>;
  /** Which uploads and downloads each device may make (absent: any, for tests of the transfer alone). */
  access?: ArtifactAccess;
  /** Uploads one session may have in progress at once (default 16). */
  maxTransfersPerSession?: number;
}

export const DEFAULT_MAX_STORE_BYTES = 20 * 1024 * 1024 * 1024;
const DEFAULT_GRACE_MS = 60 * 60 * 1000;

export class ArtifactHub {
  readonly store: BlobStore;
  readonly maxArtifactBytes: number;
  private readonly peers = new Map<ServerSession, ArtifactPeer>();
  /** Devices seen to store each blob since this process started (uploaded it, or fetched it). */
  private readonly holders = new Map<string, Set<string>>();
  private readonly log: Logger;
  private readonly policy: RetentionPolicy;
  private gcTimer: NodeJS.Timeout | undefined;
  private gcScheduled = false;
  /** Chunk bytes served to agents (for /metrics). */
  bytesServed = 0;
  bytesStored = 0;
  blobsStored = 0;
  /** Bytes in the store at the last garbage collection. */
  storeBytes = 0;

  constructor(private readonly opts: ArtifactHubOptions) {
    this.log = opts.logger.child({ component: 'artifacts' });
    this.store = new BlobStore(path.join(opts.dataDir, 'artifacts'));
    this.maxArtifactBytes = opts.maxArtifactBytes ?? DEFAULT_MAX_BLOB_BYTES;
    this.policy = {
      maxStoreBytes: opts.retention?.maxStoreBytes ?? DEFAULT_MAX_STORE_BYTES,
      graceMs: opts.retention?.graceMs ?? DEFAULT_GRACE_MS,
    };
    // Partial uploads cut by our own crash or restart: never stored, removed now.
    const cleaned = this.store.cleanTemp();
    if (cleaned > 0) this.log.info({ cleaned }, 'removed partial artifact uploads');
    setImmediate(() => this.collectGarbageLogged()).unref();
    this.gcTimer = setInterval(() => this.collectGarbageLogged(), 10 * 60 * 1000);
    this.gcTimer.unref();
  }

  /** Wires a session (new or resumed) to its transfer peer. */
  attach(session: ServerSession, resumed: boolean): void {
    const existing = this.peers.get(session);
    if (existing) {
      if (resumed) existing.reconnected();
      return;
    }
    const peer = new ArtifactPeer({
      store: this.store,
      acceptOffers: true,
      maxBlobBytes: this.maxArtifactBytes,
      send: (body) => {
        if (body.type === 'artifactChunk') this.bytesServed += body.value.data.byteLength;
        session.send(body);
      },
      connected: () => session.connected,
      buffered: () => session.bufferedBytes(),
      ...(this.opts.maxTransfersPerSession !== undefined ? { maxTransfers: this.opts.maxTransfersPerSession } : {}),
      mayReceive: (offer) => {
        const access = this.opts.access?.outputsOf(session.deviceId, offer);
        if (!access) return undefined;
        if ('refused' in access) return `upload refused: ${access.refused}`;
        if (!access.names.includes(offer.name)) {
          return `upload refused: task ${offer.taskId} declares no artifact ${JSON.stringify(offer.name)} (declared: ${access.names.join(', ')})`;
        }
        return undefined;
      },
      mayServe: (digest) => {
        const inputs = this.opts.access?.inputsHeldBy(session.deviceId);
        if (!inputs || inputs.has(digest)) return undefined;
        return `download refused: ${digest} is no artifact input of an attempt device ${session.deviceId} holds`;
      },
      onDelivered: (digest) => this.addHolder(digest, session.deviceId),
      onStored: (digest, size) => {
        this.addHolder(digest, session.deviceId);
        this.bytesStored += size;
        this.blobsStored++;
        this.storeBytes += size;
        this.log.info({ digest, size, device: session.deviceId }, 'artifact stored');
        this.scheduleGc();
      },
      logger: this.log,
    });
    this.peers.set(session, peer);
    session.on('artifact', (body) => {
      if (session.protocolVersion >= ARTIFACTS_VERSION) peer.handle(body);
    });
    session.on('end', () => {
      peer.close();
      this.peers.delete(session);
    });
  }

  /**
   * The artifacts of a Result, checked against the store: a Result may only
   * name blobs the orchestrator holds (it confirmed them before the agent sent it).
   */
  resultArtifacts(
    refs: readonly ArtifactRef[] | undefined,
    declared?: readonly string[],
  ): {
    artifacts?: Record<string, ArtifactRecord>;
    error?: string;
  } {
    if (!refs || refs.length === 0) return {};
    const artifacts: Record<string, ArtifactRecord> = {};
    for (const r of refs) {
      // Only the task's declared outputs: a Result cannot pin (or publish) any other stored blob.
      if (declared && !declared.includes(r.name)) {
        return {
          error: `ARTIFACT_UNDECLARED: artifact ${JSON.stringify(r.name)} is not declared by the task (declared: ${declared.join(', ') || 'none'})`,
        };
      }
      const size = this.store.sizeOf(r.digest);
      if (size === undefined || size !== r.size) {
        return { error: `ARTIFACT_MISSING: artifact ${r.name} (${r.digest}) is not stored on the orchestrator` };
      }
      artifacts[r.name] = { digest: r.digest, size: r.size };
    }
    return { artifacts };
  }

  /** Devices known to hold a blob in their cache (for placement). */
  holdersOf(digest: string): ReadonlySet<string> | undefined {
    return this.holders.get(digest);
  }

  private addHolder(digest: string, deviceId: string): void {
    let set = this.holders.get(digest);
    if (!set) {
      set = new Set();
      this.holders.set(digest, set);
    }
    set.add(deviceId);
  }

  /** Removes unreferenced blobs, least recently used first, while over the size cap. */
  collectGarbage(now = Date.now()): { removed: number; freedBytes: number; storedBytes: number } {
    const blobs = this.store.list();
    const plan = planEviction(blobs, this.opts.referenced(), this.policy, now);
    let freed = 0;
    for (const b of plan.remove) {
      this.store.remove(b.digest);
      this.holders.delete(b.digest);
      freed += b.size;
    }
    this.storeBytes = plan.afterBytes;
    if (plan.remove.length > 0) this.log.info({ removed: plan.remove.length, freed }, 'evicted unreferenced artifacts');
    if (plan.afterBytes > this.policy.maxStoreBytes) {
      this.log.warn(
        { storedBytes: plan.afterBytes, capBytes: this.policy.maxStoreBytes },
        'artifact store over its cap with referenced or recent blobs only',
      );
    }
    return { removed: plan.remove.length, freedBytes: freed, storedBytes: plan.afterBytes };
  }

  /** Prometheus text for /metrics. */
  renderMetrics(): string {
    return [
      counter('orrery_artifacts_stored_total', 'Artifact blobs uploaded by agents and stored', this.blobsStored),
      counter('orrery_artifact_bytes_received_total', 'Bytes of artifact blobs stored from uploads', this.bytesStored),
      counter('orrery_artifact_bytes_sent_total', 'Bytes of artifact chunks sent to agents', this.bytesServed),
      gauge('orrery_artifact_store_bytes', 'Bytes in the artifact store (as of the last collection, plus uploads since)', [[{}, this.storeBytes]]),
    ].join('\n');
  }

  private scheduleGc(): void {
    if (this.gcScheduled) return;
    this.gcScheduled = true;
    setTimeout(() => {
      this.gcScheduled = false;
      this.collectGarbageLogged();
    }, 1000).unref();
  }

  /** For timers: a failed collection (a store read, a database error) is logged, never thrown out of the timer. */
  private collectGarbageLogged(): void {
    try {
      this.collectGarbage();
    } catch (err) {
      this.log.warn({ err }, 'artifact garbage collection failed');
    }
  }

  close(): void {
    if (this.gcTimer) clearInterval(this.gcTimer);
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}
