// Finds the file an artifact output names: a path, or a glob that must match
// exactly one regular file, inside the work dir (never outside it), and opens
// it once: the checks and the read go through the same fd, so a task swapping
// the file (or a folder on its path) for a symlink afterwards changes nothing.
import { closeSync, constants, fstatSync, openSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { ArtifactError } from '@orrery/protocol/client';
import { globSync, isDynamicPattern } from 'tinyglobby';

/** `rel` resolved inside `root`, or an error when it would leave it. */
export function insideWorkDir(root: string, rel: string): string {
  if (rel === '' || path.isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) {
    throw new ArtifactError(
      'ARTIFACT_NOT_FOUND',
      `artifact path ${JSON.stringify(rel)} must be relative to the work dir, without ..`,
    );
  }
  return path.resolve(root, rel);
}

/** An output file opened for reading; the caller closes `fd`. */
export interface OpenedOutput {
  fd: number;
  size: number;
  /** Where it was found (for messages). */
  path: string;
}

// O_NOFOLLOW: the last component is never a link; O_NONBLOCK: a FIFO does not hang the open.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export function openOutputFile(cwd: string, name: string, pattern: string): OpenedOutput {
  let file: string;
  if (isDynamicPattern(pattern)) {
    insideWorkDir(cwd, pattern);
    const matches = globSync(pattern, { cwd, onlyFiles: true, dot: true, followSymbolicLinks: false, absolute: true });
    if (matches.length === 0)
      throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: no file matches ${pattern}`);
    if (matches.length > 1) {
      const some = matches
        .slice(0, 3)
        .map((m) => path.relative(cwd, m))
        .join(', ');
      throw new ArtifactError(
        'ARTIFACT_NOT_FOUND',
        `artifact ${name}: ${matches.length} files match ${pattern} (${some}…); an artifact is one file (archive several first)`,
      );
    }
    file = matches[0] as string;
  } else {
    file = insideWorkDir(cwd, pattern);
  }
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: the last component is a symlink (Linux; macOS says EMLINK).
    if (code === 'ELOOP' || code === 'EMLINK') {
      throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} is a symlink, which outputs may not be (it could point outside the work dir)`);
    }
    throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} does not exist in the work dir`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} is not a regular file`);
    // A folder on the path may be a link: where the open fd really is decides, not the name.
    const real = process.platform === 'linux' ? readlinkSync(`/proc/self/fd/${fd}`) : realpathSync(file);
    const realRoot = realpathSync(cwd);
    if (!real.startsWith(realRoot + path.sep)) {
      throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} points outside the work dir`);
    }
    return { fd, size: st.size, path: real };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
