// Finds the file an artifact output names: a path, or a glob that must match
// exactly one regular file, inside the work dir (never outside it).
import { realpathSync, statSync } from 'node:fs';
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

export function resolveOutputFile(cwd: string, name: string, pattern: string): string {
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
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch {
    throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} does not exist in the work dir`);
  }
  if (!st.isFile()) throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} is not a regular file`);
  // A symlink pointing out of the work dir must not ship files from elsewhere on the device.
  const real = realpathSync(file);
  const realRoot = realpathSync(cwd);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new ArtifactError('ARTIFACT_NOT_FOUND', `artifact ${name}: ${pattern} points outside the work dir`);
  }
  return real;
}
