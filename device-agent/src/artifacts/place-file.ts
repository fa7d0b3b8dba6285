// Copies a cached blob into a task's work dir without following symlinks.
// The agent may run as root while tasks run as another account (runAs), and
// the work dir (or an absolute cwd) can hold links a task planted; a plain
// copy would then write, as root, wherever they point. So every folder on the
// way is made or checked one at a time (a symlink is refused), the file is
// created with O_EXCL|O_NOFOLLOW, its real path is checked through the open
// fd, and the bytes and the owner go through that fd.
import {
  closeSync,
  constants,
  fchownSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  realpathSync,
  unlinkSync,
  write,
} from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ArtifactError } from '@orrery/protocol/client';

const writeAsync = promisify(write);
// O_NOFOLLOW does not exist on Windows (no runAs there either).
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export interface Owner {
  uid: number;
  gid: number;
}

/** Places `src` at `rel` (already checked: relative, no ..) inside `root`; with `owner`, it and new folders are theirs. */
export async function placeFile(src: string, root: string, rel: string, owner?: Owner): Promise<void> {
  const realRoot = realpathSync(root);
  const parts = rel.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined) throw refused(rel, 'names no file');
  let dir = realRoot;
  for (const part of parts) {
    dir = path.join(dir, part);
    let made = false;
    try {
      mkdirSync(dir, 0o755);
      made = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // lstat: a symlink here (planted, or swapped in after mkdir) is refused, never followed.
    if (!lstatSync(dir).isDirectory()) throw refused(rel, `${path.relative(realRoot, dir)} is not a plain folder`);
    if (made && owner) lchownSync(dir, owner.uid, owner.gid);
  }
  const dest = path.join(dir, name);
  // A file left from an earlier run (or a planted link) is removed, not written through.
  try {
    if (lstatSync(dest).isDirectory()) throw refused(rel, 'is a folder');
    unlinkSync(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let fd: number;
  try {
    fd = openSync(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP') throw refused(rel, 'appeared while it was placed (a racing process?)');
    throw err;
  }
  try {
    // A folder on the way swapped for a link after it was checked would put the file elsewhere.
    if (process.platform === 'linux') {
      const real = readlinkSync(`/proc/self/fd/${fd}`);
      if (!real.startsWith(realRoot + path.sep)) throw refused(rel, 'resolved outside the work dir');
    }
    await copyInto(src, fd);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
}

async function copyInto(src: string, fd: number): Promise<void> {
  const from = await open(src, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await from.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      let done = 0;
      while (done < bytesRead) done += (await writeAsync(fd, buf, done, bytesRead - done, pos + done)).bytesWritten;
      pos += bytesRead;
    }
  } finally {
    await from.close();
  }
}

function refused(rel: string, why: string): ArtifactError {
  return new ArtifactError(
    'ARTIFACT_REFUSED',
    `artifact input path ${JSON.stringify(rel)} ${why}; the agent does not follow symlinks in the work dir`,
  );
}
