// Content addresses: the lower-case hex sha256 of a blob's bytes.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { ArtifactError } from './artifact-error.js';

const DIGEST = /^[0-9a-f]{64}$/;

export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

/** Throws ARTIFACT_BAD_DIGEST unless `s` is a digest: a name from the wire never becomes a path otherwise. */
export function assertDigest(s: string): void {
  if (!isDigest(s)) {
    throw new ArtifactError('ARTIFACT_BAD_DIGEST', `not a sha256 digest (64 lower-case hex): ${JSON.stringify(s.slice(0, 80))}`);
  }
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Digest and size of a file, read as a stream (constant memory). */
export async function hashFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { digest: hash.digest('hex'), size };
}
