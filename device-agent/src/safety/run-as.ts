// Resolves the account tasks run as (`runAs`: a user name, or uid/gid) into
// numeric ids, home and name. Switching needs the agent to be root; that is
// checked at start, not when the first task fails.
import { readFileSync } from 'node:fs';
import { AgentError } from '../errors.js';
import type { RunAs } from '../executors/types.js';

export interface RunAsSetting {
  user?: string;
  uid?: number;
  gid?: number;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

function readPasswd(file: string): PasswdEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! });
  }
  return out;
}

export function resolveRunAs(setting: RunAsSetting, passwdFile = '/etc/passwd'): RunAs {
  if (process.platform === 'win32') throw new AgentError('AGENT_CONFIG_INVALID', 'runAs is not supported on Windows');
  const entries = readPasswd(passwdFile);
  let entry: PasswdEntry | undefined;
  if (setting.user !== undefined) {
    entry = entries.find((e) => e.name === setting.user);
    if (!entry)
      throw new AgentError(
        'AGENT_CONFIG_INVALID',
        `runAs.user: no account named '${setting.user}' in ${passwdFile}; create it or give runAs.uid/gid`,
      );
  } else if (setting.uid !== undefined) {
    entry = entries.find((e) => e.uid === setting.uid);
  } else {
    throw new AgentError('AGENT_CONFIG_INVALID', 'runAs needs a user or a uid');
  }
  const uid = setting.uid ?? entry!.uid;
  const gid = setting.gid ?? entry?.gid ?? uid;
  for (const [what, v] of [
    ['uid', uid],
    ['gid', gid],
  ] as const) {
    if (!Number.isInteger(v) || v < 0)
      throw new AgentError('AGENT_CONFIG_INVALID', `runAs.${what} must be a non-negative integer, not ${v}`);
  }
  const me = process.getuid?.();
  if (me !== 0 && (me !== uid || process.getgid?.() !== gid)) {
    throw new AgentError(
      'AGENT_CONFIG_INVALID',
      `running tasks as uid ${uid}/gid ${gid} needs the agent to run as root (it runs as uid ${me}); remove runAs or start the agent as root`,
    );
  }
  return { uid, gid, ...(entry ? { user: entry.name, home: entry.home } : {}) };
}
