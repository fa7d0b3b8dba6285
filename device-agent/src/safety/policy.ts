// The device's allowlist: which executor kinds run at all, and per kind which
// commands, hosts or servers an Assign may name. Patterns are globs (`*`
// matches anything, including spaces and slashes; `?` one character),
// anchored at both ends, or regular expressions written /like this/.
// A refused Assign is rejected with a stable code and a message naming the
// setting to change.
import type { AssignProblem } from '../executors/types.js';

/** Executor kinds this agent knows (registry.ts builds them). */
export const KNOWN_EXECUTORS = ['shell', 'http', 'mcp', 'adb'] as const;

export const NOT_ALLOWED_CODES = {
  executor: 'EXECUTOR_NOT_ALLOWED',
  command: 'COMMAND_NOT_ALLOWED',
} as const;

/** Allowlist settings (DeviceAgentOptions.allow and `--allow-*` flags). Absent = anything goes. */
export interface AllowSettings {
  /** Executor kinds this agent runs. Default: every kind it has (shell, http, mcp, adb when found). */
  executors?: string[];
  /** shell: patterns over the command line. */
  shell?: string[];
  /** http: host patterns (`api.example.com`, `*.lan`, `localhost:8080`) over each request's host, redirects included. */
  http?: string[];
  /** mcp: patterns over the server's command line (`command arg1 arg2`). */
  mcp?: string[];
  /** adb: patterns over each operation: `shell <command>`, `push <local> <remote>`, `pull <remote> <local>`. */
  adb?: string[];
  /**
   * Environment variable names (patterns) an Assign's env may set where the
   * kind has a command allowlist. LD_*, DYLD_*, NODE_OPTIONS and PATH must be
   * listed by exact name: they would let an allowed command run other code.
   */
  env?: string[];
}

/** The setting (config key and CLI flag) behind each list, for messages. */
export const ALLOW_SETTING: Record<keyof AllowSettings, { key: string; flag: string }> = {
  executors: { key: 'allow.executors', flag: '--executors' },
  shell: { key: 'allow.shell', flag: '--allow-shell' },
  http: { key: 'allow.http', flag: '--allow-http' },
  mcp: { key: 'allow.mcp', flag: '--allow-mcp' },
  adb: { key: 'allow.adb', flag: '--allow-adb' },
  env: { key: 'allow.env', flag: '--allow-env' },
};

/** Names that change what an allowed command runs (preload, interpreter options, lookup). */
export function isCodeLoadingEnv(name: string): boolean {
  const n = name.toUpperCase();
  return n.startsWith('LD_') || n.startsWith('DYLD_') || n === 'NODE_OPTIONS' || n === 'PATH';
}

/**
 * With a command allowlist for `kind`, every env name an Assign sets must be
 * in allow.env (code-loading names by exact name); without one, the task may
 * run any command anyway, so its env is not restricted.
 */
export function envProblem(
  allow: AllowSettings | undefined,
  kind: 'shell' | 'http' | 'mcp' | 'adb',
  names: readonly string[],
): AssignProblem | undefined {
  if (!allow?.[kind]) return undefined;
  const listed = allow.env ?? [];
  const matchers = listed.map(compilePattern);
  const refused = names.filter((n) =>
    isCodeLoadingEnv(n) ? !listed.includes(n) : !matchers.some((re) => re.test(n)),
  );
  if (refused.length === 0) return undefined;
  const s = ALLOW_SETTING.env;
  const code = refused.filter(isCodeLoadingEnv);
  return {
    code: NOT_ALLOWED_CODES.command,
    message:
      `env ${refused.map((n) => JSON.stringify(n)).join(', ')} is not allowed on this device: with ${ALLOW_SETTING[kind].key} set, ` +
      `a task may only set variables listed in ${s.key} (${listed.map((p) => JSON.stringify(p)).join(', ') || 'none'})` +
      (code.length > 0 ? `; ${code.join(', ')} can make an allowed command run other code and must be listed by exact name` : '') +
      `; add them to ${s.key} in the agent config or pass ${s.flag}`,
  };
}

export class CommandPolicy {
  private readonly matchers: RegExp[];

  constructor(
    readonly setting: keyof AllowSettings,
    readonly patterns: readonly string[],
  ) {
    this.matchers = patterns.map(compilePattern);
  }

  matches(subject: string): boolean {
    return this.matchers.some((re) => re.test(subject));
  }
}

/** A glob (`*`, `?`) or a /regex/, as an anchored RegExp. Throws on a bad regex. */
export function compilePattern(pattern: string): RegExp {
  if (pattern.length >= 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    return new RegExp(`^(?:${pattern.slice(1, -1)})$`, 's');
  }
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** Policy for one kind, or undefined when that list is not set (anything allowed). */
export function policyFor(
  allow: AllowSettings | undefined,
  kind: 'shell' | 'http' | 'mcp' | 'adb',
): CommandPolicy | undefined {
  const list = allow?.[kind];
  return list ? new CommandPolicy(kind, list) : undefined;
}

export function notAllowed(policy: CommandPolicy, what: string): AssignProblem {
  const s = ALLOW_SETTING[policy.setting];
  const list = policy.patterns.length > 0 ? policy.patterns.map((p) => JSON.stringify(p)).join(', ') : 'none';
  return {
    code: NOT_ALLOWED_CODES.command,
    message: `${what} is not allowed on this device: it matches no pattern of ${s.key} (${list}); add one to ${s.key} in the agent config or pass ${s.flag}`,
  };
}

export function executorNotAllowed(kind: string, enabled: readonly string[]): AssignProblem {
  const s = ALLOW_SETTING.executors;
  return {
    code: NOT_ALLOWED_CODES.executor,
    message: `executor '${kind}' is disabled on this device (enabled: ${enabled.join(', ') || 'none'}); add it to ${s.key} in the agent config or pass ${s.flag}`,
  };
}
