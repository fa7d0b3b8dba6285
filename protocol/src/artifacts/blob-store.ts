// A content-addressed directory of blobs: <root>/sha256/<2 hex>/<64 hex>.
// A blob is written to <root>/tmp, fsynced, and renamed into place only after
// its sha256 matched the name it was asked for, so a file under sha256/ is
// always whole and correct (a crash leaves at most a temp file, removed by
// cleanTemp() at the next start).
import { type Hash, createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import path from 'node:path';
import { ArtifactError } from './artifact-error.js';
import { assertDigest, isDigest } from './digest.js';

export interface StoredBlob {
  digest: string;
  size: number;
  /** Last use (ms): set when stored, fetched or served; drives LRU eviction. */
  usedAt: number;
}

export class BlobStore {
  readonly root: string;
  private readonly tmpDir: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.tmpDir = path.join(this.root, 'tmp');
    mkdirSync(path.join(this.root, 'sha256'), { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  pathOf(digest: string): string {
    if (!isDigest(digest))
      throw new ArtifactError('ARTIFACT_NOT_FOUND', `not a sha256 digest: ${JSON.stringify(digest)}`);
    return path.join(this.root, 'sha256', digest.slice(0, 2), digest);
  }

  /** Size of a stored blob, or undefined. */
  sizeOf(digest: string): number | undefined {
    if (!isDigest(digest)) return undefined;
    try {
      return statSync(this.pathOf(digest)).size;
    } catch {
      return undefined;
    }
  }

  has(digest: string): boolean {
    return this.sizeOf(digest) !== undefined;
  }

  /** Marks a blob as used now (its mtime), for LRU eviction. */
  touch(digest: string): void {
    try {
      const now = new Date();
      utimesSync(this.pathOf(digest), now, now);
    } catch {
      // gone meanwhile: nothing to mark
    }
  }

  /** Removes partial files left by a crash or a cut transfer; returns how many. */
  cleanTemp(): number {
    let n = 0;
    for (const name of readdirSync(this.tmpDir)) {
      rmSync(path.join(this.tmpDir, name), { force: true, recursive: true });
      n++;
    }
    return n;
  }

  /** Every stored blob. */
  list(): StoredBlob[] {
    const out: StoredBlob[] = [];
    const base = path.join(this.root, 'sha256');
    for (const dir of readdirSync(base)) {
      let names: string[];
      try {
        names = readdirSync(path.join(base, dir));
      } catch {
        continue;
      }
      for (const name of names) {
        if (!isDigest(name)) continue;
        try {
          const st = statSync(path.join(base, dir, name));
          out.push({ digest: name, size: st.size, usedAt: st.mtimeMs });
        } catch {
          // removed meanwhile
        }
      }
    }
    return out;
  }

  remove(digest: string): void {
    rmSync(this.pathOf(digest), { force: true });
  }

  /** Starts a blob that must end up with this digest and size. */
  async begin(digest: string, size: number): Promise<PartialBlob> {
    assertDigest(digest); // the digest is part of the temp file's name
    const file = path.join(this.tmpDir, `${digest.slice(0, 16)}-${randomBytes(6).toString('hex')}.part`);
    const fh = await open(file, 'w');
    return new PartialBlob(this, digest, size, file, fh);
  }

  /**
   * Copies a file into the store (hashing it on the way); returns its
   * address. The copy, not the original, is what gets served later, so a
   * task changing its file afterwards cannot change a stored blob.
   */
  async importFile(
    src: string | { fd: number; path: string },
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<{ digest: string; size: number }> {
    // An open fd is read as is (never reopened by name): what the caller checked is what gets stored.
    const name = typeof src === 'string' ? src : src.path;
    const size = typeof src === 'string' ? statSync(src).size : fstatSync(src.fd).size;
    if (size > maxBytes) {
      throw new ArtifactError(
        'ARTIFACT_TOO_LARGE',
        `${name} is ${size} bytes, over the ${maxBytes}-byte artifact limit`,
      );
    }
    const file = path.join(this.tmpDir, `import-${randomBytes(8).toString('hex')}.part`);
    const fh = await open(file, 'w');
    const hash = createHash('sha256');
    let written = 0;
    try {
      const stream =
        typeof src === 'string'
          ? createReadStream(src, { highWaterMark: 1 << 20 })
          : createReadStream('', { fd: src.fd, autoClose: false, start: 0, highWaterMark: 1 << 20 });
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        hash.update(buf);
        await fh.write(buf, 0, buf.length, written);
        written += buf.length;
        if (written > maxBytes) {
          throw new ArtifactError(
            'ARTIFACT_TOO_LARGE',
            `${name} grew over the ${maxBytes}-byte artifact limit while read`,
          );
        }
      }
      await fh.sync();
    } catch (err) {
      await fh.close();
      rmSync(file, { force: true });
      throw err;
    }
    await fh.close();
    const digest = hash.digest('hex');
    try {
      await this.install(file, digest);
    } catch (err) {
      rmSync(file, { force: true });
      throw err;
    }
    return { digest, size: written };
  }

  /** Renames a verified temp file to its address and makes the rename durable. */
  async install(tempFile: string, digest: string): Promise<void> {
    const dest = this.pathOf(digest);
    const dir = path.dirname(dest);
    // A new shard dir must itself be durable, or a crash could lose the blob renamed into it.
    if (mkdirSync(dir, { recursive: true }) !== undefined) syncDir(path.dirname(dir));
    await rename(tempFile, dest);
    syncDir(dir);
  }
}

/** A blob being received: bytes must arrive in order; the digest is checked at the end. */
export class PartialBlob {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  private closed = false;

  constructor(
    private readonly store: BlobStore,
    readonly digest: string,
    readonly size: number,
    readonly file: string,
    private readonly fh: FileHandle,
  ) {}

  /** Bytes held so far (the offset the next chunk must start at). */
  get received(): number {
    return this.written;
  }

  async append(data: Uint8Array): Promise<void> {
    if (this.written + data.byteLength > this.size) {
      throw new ArtifactError('ARTIFACT_INTEGRITY', `more bytes than the declared size ${this.size}`);
    }
    await this.fh.write(data, 0, data.byteLength, this.written);
    this.hash.update(data);
    this.written += data.byteLength;
  }

  /**
   * Checks size and digest, fsyncs and renames the blob into the store.
   * On a mismatch the partial file is removed and ARTIFACT_INTEGRITY thrown.
   */
  async commit(): Promise<void> {
    if (this.written !== this.size) {
      await this.abort();
      throw new ArtifactError('ARTIFACT_INTEGRITY', `blob ended at ${this.written} of ${this.size} bytes`);
    }
    const actual = this.hash.digest('hex');
    if (actual !== this.digest) {
      await this.abort();
      throw new ArtifactError('ARTIFACT_INTEGRITY', `content hashes to ${actual}, not ${this.digest}`);
    }
    await this.fh.sync();
    await this.fh.close();
    this.closed = true;
    try {
      await this.store.install(this.file, this.digest);
    } catch (err) {
      rmSync(this.file, { force: true }); // never leave the temp file behind
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    rmSync(this.file, { force: true });
  }
}

function syncDir(dir: string): void {
  // Directory fsync makes the rename durable; not possible on Windows.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
