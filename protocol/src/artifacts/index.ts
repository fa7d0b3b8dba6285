export { ArtifactError, type ArtifactErrorCode, artifactCode } from './artifact-error.js';
export { ArtifactPeer } from './artifact-peer.js';
export { ArtifactReceiver, type ProgressListener } from './artifact-receiver.js';
export { ArtifactSender } from './artifact-sender.js';
export { BlobStore, PartialBlob, type StoredBlob } from './blob-store.js';
export { assertDigest, hashFile, isDigest, sha256 } from './digest.js';
export {
  type ArtifactPeerOptions,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_BLOB_BYTES,
  DEFAULT_WINDOW_BYTES,
} from './transfer-options.js';
