// Which executors this agent has, and which of them the device allows.
// The enabled kinds are what the agent advertises (Capabilities.executors);
// the orchestrator then only sends a device the kinds it has.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AgentError } from '../errors.js';
import {
  type AllowSettings,
  compilePattern,
  envProblem,
  executorNotAllowed,
  KNOWN_EXECUTORS,
  policyFor,
} from '../safety/policy.js';
import { AdbExecutor } from './adb.js';
import { HttpExecutor } from './http.js';
import { McpExecutor, parseMcpArgs } from './mcp.js';
import { parseArgsJson } from './args.js';
import { ShellExecutor } from './shell.js';
import type { Assign } from '@orrery/protocol/client';
import type { AssignProblem, ExecutorSettings, TaskExecutor } from './types.js';

export { KNOWN_EXECUTORS };

export interface RegistryOptions {
  settings: ExecutorSettings;
  allow?: AllowSettings;
  /** adb binary; default: `adb` found on PATH. Without one, adb is not offered. */
  adbPath?: string;
  /** Where to look for adb (default process.env.PATH). */
  searchPath?: string;
}

/** An executable named `name` on the PATH, or undefined. */
export function findOnPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  const win = process.platform === 'win32';
  for (const dir of searchPath.split(win ? ';' : ':')) {
    if (!dir) continue;
    for (const candidate of win ? [`${name}.exe`, name] : [name]) {
      const full = path.join(dir, candidate);
      if (existsSync(full)) return full;
    }
  }
  return undefined;
}

export class ExecutorRegistry {
  private readonly enabled = new Map<string, TaskExecutor>();
  /** Kinds this agent could run but the allowlist leaves out. */
  private readonly disabled = new Set<string>();
  readonly adbPath: string | undefined;
  private readonly allow: AllowSettings | undefined;

  constructor(opts: RegistryOptions) {
    const allow = opts.allow;
    this.allow = opts.allow;
    for (const kind of ['shell', 'http', 'mcp', 'adb', 'env'] as const) {
      for (const p of allow?.[kind] ?? []) {
        try {
          compilePattern(p);
        } catch (err) {
          throw new AgentError(
            'AGENT_CONFIG_INVALID',
            `allow.${kind}: bad pattern ${JSON.stringify(p)}: ${(err as Error).message}`,
          );
        }
      }
    }
    const unknown = (allow?.executors ?? []).filter((k) => !(KNOWN_EXECUTORS as readonly string[]).includes(k));
    if (unknown.length > 0) {
      throw new AgentError(
        'AGENT_CONFIG_INVALID',
        `allow.executors: unknown kind ${unknown.join(', ')} (known: ${KNOWN_EXECUTORS.join(', ')})`,
      );
    }
    const s = opts.settings;
    const available: TaskExecutor[] = [
      new ShellExecutor({ ...s, ...(policyFor(allow, 'shell') ? { allow: policyFor(allow, 'shell')! } : {}) }),
      new HttpExecutor(s, policyFor(allow, 'http')),
      new McpExecutor(s, policyFor(allow, 'mcp')),
    ];
    if (opts.adbPath && !existsSync(opts.adbPath)) {
      throw new AgentError('AGENT_CONFIG_INVALID', `adbPath: ${opts.adbPath} does not exist; fix the path or remove adbPath to use adb from PATH`);
    }
    this.adbPath = opts.adbPath ?? findOnPath('adb', opts.searchPath);
    if (this.adbPath) available.push(new AdbExecutor(s, this.adbPath, policyFor(allow, 'adb')));
    for (const ex of available) {
      if (!allow?.executors || allow.executors.includes(ex.kind)) this.enabled.set(ex.kind, ex);
      else this.disabled.add(ex.kind);
    }
  }

  /** Enabled kinds, in a stable order (advertised in Hello). */
  kinds(): string[] {
    return [...this.enabled.keys()];
  }

  get(kind: string): TaskExecutor | undefined {
    return this.enabled.get(kind);
  }

  /** Why `a` cannot run here, executor checks first, then the env it sets (allow.env). */
  check(executor: TaskExecutor, a: Assign): AssignProblem | undefined {
    const problem = executor.check(a);
    if (problem) return problem;
    // Only shell commands and MCP servers get the spec's env (http starts nothing; adb gets the agent's env).
    const kind = executor.kind;
    if (kind !== 'shell' && kind !== 'mcp') return undefined;
    const names = Object.keys(a.executor?.env ?? {});
    if (kind === 'mcp') names.push(...Object.keys(parseMcpArgs(parseArgsJson(a)).server.env ?? {}));
    return envProblem(this.allow, kind, names);
  }

  /** Why `kind` cannot run here (it is not enabled). */
  unavailable(kind: string): AssignProblem {
    if (this.disabled.has(kind)) return executorNotAllowed(kind, this.kinds());
    const hint = kind === 'adb' ? ' (adb was not found on PATH; install it or set adbPath)' : '';
    return { code: 'UNSUPPORTED_EXECUTOR', message: `executor '${kind}' is not available on this device${hint}` };
  }
}
