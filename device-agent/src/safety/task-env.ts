// The environment tasks start from: the agent's own, minus everything that
// would hand a task the agent's identity or configuration (its credential,
// enrollment token, the files holding them, ORRERY_* settings). Each task then gets its
// own ORRERY_* variables (task id, inputs...) on top.
import path from 'node:path';

/** Shorter values are not treated as secrets (they would match too much). */
const MIN_SECRET_LENGTH = 8;

export interface ScrubOptions {
  /** Credential, enrollment token...: variables whose value contains one are dropped. */
  secrets?: Array<string | undefined>;
  /** Credential and token files: variables whose value contains one are dropped (not whole dirs: PATH could live there). */
  paths?: Array<string | undefined>;
}

export function scrubbedEnv(env: NodeJS.ProcessEnv, opts: ScrubOptions = {}): NodeJS.ProcessEnv {
  const secrets = (opts.secrets ?? []).filter(
    (s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH,
  );
  const paths = (opts.paths ?? [])
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .map((p) => path.resolve(p));
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (name.toUpperCase().startsWith('ORRERY_')) continue;
    if (secrets.some((s) => value.includes(s))) continue;
    if (paths.some((p) => value.includes(p))) continue;
    out[name] = value;
  }
  return out;
}
