// The root under which attempts work when tasks run as another account. It
// lives where that account can reach it (by default a fixed name in the temp
// dir, which any local user could create first), so the agent uses it only
// when it made it or it is a real directory the agent owns that nobody else
// can write to; anything else is refused rather than trusted.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../errors.js';

export function prepareWorkRoot(dir: string): void {
  mkdirSync(path.dirname(dir), { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(dir);
  const me = process.getuid?.();
  const problem = !st.isDirectory()
    ? 'is not a directory (a symlink?)'
    : me !== undefined && st.uid !== me
      ? `is owned by uid ${st.uid}, not the agent's uid ${me}`
      : (st.mode & 0o022) !== 0
        ? `is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`
        : '';
  if (problem) {
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      `work dir ${dir} ${problem}; another account may have created it. Remove it (the agent recreates it) or set workDir to a directory the agent owns`,
    );
  }
  // Tasks' accounts only pass through (each attempt dir is handed to them).
  chmodSync(dir, 0o711);
}
