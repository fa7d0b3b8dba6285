// Knobs of an artifact transfer, with the defaults proto/AIP.md §12 names.
import type { AipLogger } from '../logger.js';
import type { ArtifactOffer, Body } from '../messages.js';
import type { BlobStore } from './blob-store.js';

export const DEFAULT_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_WINDOW_BYTES = 2 * 1024 * 1024;
export const DEFAULT_MAX_BLOB_BYTES = 1024 * 1024 * 1024;
/** The most credit a holder honours in one request, whatever the receiver asks (AIP.md §12.4). */
export const MAX_WINDOW_BYTES = 2 * 1024 * 1024;
/** Chunks of one transfer waiting to be written; more is a holder ignoring the window. */
export const MAX_QUEUED_CHUNKS = 1024;
/** The holder sends no further chunk while more than this waits unsent on the connection. */
export const SEND_HIGH_WATER_BYTES = 1024 * 1024;
/** Uploads one session may have in progress at once (default); more: ARTIFACT_REFUSED. */
export const DEFAULT_MAX_TRANSFERS = 16;

export interface ArtifactPeerOptions {
  store: BlobStore;
  /** Writes an (unsequenced) artifact body on the live connection; dropped while disconnected. */
  send(body: Body): void;
  /** Whether a connection is up now. */
  connected(): boolean;
  /**
   * Bytes written to the connection but not yet handed to the network (the
   * socket's or stream's buffer). The holder waits while it is over
   * SEND_HIGH_WATER_BYTES, so a slow link holds it back instead of memory.
   */
  buffered?(): number;
  /** Bytes per ArtifactChunk (default 256 KiB; must fit the frame limit). */
  chunkBytes?: number;
  /** Credit a receiver grants beyond what it holds (default 2 MiB): bounds memory in flight. */
  windowBytes?: number;
  /** Largest blob this side accepts (default 1 GiB); larger: ARTIFACT_TOO_LARGE. */
  maxBlobBytes?: number;
  /** Damaged chunks or blobs, or stalls, tolerated per transfer before ARTIFACT_INTEGRITY (default 3). */
  maxRetries?: number;
  /** A connected transfer without progress for this long asks again (default 10 s). */
  stallMs?: number;
  /** Whether this side takes uploads (ArtifactOffer); the orchestrator does, agents do not. */
  acceptOffers?: boolean;
  /** Whether the peer may upload this (a reason to refuse with ARTIFACT_REFUSED, or undefined). */
  mayReceive?(offer: ArtifactOffer): string | undefined;
  /** Whether the peer may download this blob (a reason to refuse with ARTIFACT_REFUSED, or undefined). */
  mayServe?(digest: string): string | undefined;
  /** Uploads taken at once from this peer (default 16); an offer beyond: ARTIFACT_REFUSED. */
  maxTransfers?: number;
  /** Called after a received blob is stored (verified, durable). */
  onStored?(digest: string, size: number): void;
  /** Called when the peer confirms it stored a blob this side served or offered. */
  onDelivered?(digest: string): void;
  logger?: AipLogger;
}
