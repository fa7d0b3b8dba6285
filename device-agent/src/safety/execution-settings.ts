// The agent's execution and safety settings as config-file keys and
// command-line flags: which executors and commands are allowed, the account
// tasks run as, where they work, adb, and output limits. One place, so
// agent-config.ts and cli.ts each only add a line.
import { type Command, InvalidArgumentError } from 'commander';
import type { DeviceAgentOptions } from '../agent-options.js';
import { type Field, int, list, object, oneOf, str } from '../config-schema.js';
import { type AllowSettings, KNOWN_EXECUTORS } from './policy.js';
import type { RunAsSetting } from './run-as.js';

const f = <T>(check: Field<T>['check'], describe: string): Field<T> => ({ check, describe });

/** Config-file keys (merged into AGENT_CONFIG_SHAPE). */
export const EXECUTION_CONFIG_SHAPE = {
  allow: f(
    object({
      executors: f(
        list(oneOf(KNOWN_EXECUTORS), { commaString: true }),
        'executor kinds this agent runs (default: all it has)',
      ),
      shell: f(list(str()), 'patterns a shell command line must match'),
      http: f(list(str()), 'host patterns every http request (and redirect) must match'),
      mcp: f(list(str()), "patterns an MCP server's command line must match"),
      adb: f(
        list(str()),
        'patterns every adb operation ("shell <cmd>", "push <local> <remote>", "pull <remote> <local>") must match',
      ),
      env: f(
        list(str()),
        'env variable names a task may set where its kind has an allowlist (LD_*, DYLD_*, NODE_OPTIONS, PATH only by exact name)',
      ),
    }),
    'allowlist of executors and commands (absent list = anything)',
  ),
  runAs: f(
    object({
      user: f(str(), 'account name'),
      uid: f(int({ min: 0 }), 'numeric user id'),
      gid: f(int({ min: 0 }), "numeric group id (default: the account's group)"),
    }),
    'run tasks as this account (the agent must run as root)',
  ),
  workDir: f(str(), 'root of per-task work dirs (default <dataDir>/work; with runAs a temp dir the account can enter)'),
  adbPath: f(str(), 'adb binary (default: adb on PATH; without one the adb executor is off)'),
  maxLogBytes: f(int({ min: 1024 }), 'bytes of output forwarded to the orchestrator per task (default 8 MiB)'),
  maxOutputBytes: f(int({ min: 1024 }), 'bytes kept per declared output: stdout, file, response body (default 1 MiB)'),
  maxArtifactBytes: f(int({ min: 1024 }), 'largest single artifact a task may produce or fetch (default 1 GiB)'),
  maxArtifactTotalBytes: f(int({ min: 1024 }), 'largest total of one task\'s output artifacts (default 4 GiB)'),
  artifactCacheBytes: f(int({ min: 1024 }), 'artifact cache size; least recently used blobs go beyond it (default 10 GiB)'),
};

export interface ExecutionSettings {
  allow?: AllowSettings;
  runAs?: RunAsSetting;
  workDir?: string;
  adbPath?: string;
  maxLogBytes?: number;
  maxOutputBytes?: number;
  maxArtifactBytes?: number;
  maxArtifactTotalBytes?: number;
  artifactCacheBytes?: number;
}

/** Keys holding paths (relative = to the config file). */
export const EXECUTION_PATH_KEYS = ['workDir', 'adbPath'] as const;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseBytes(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1024)
    throw new InvalidArgumentError('expected a whole number of bytes, at least 1024');
  return n;
}

/** `alice`, `1001` or `1001:1001`. */
export function parseRunAs(v: string): RunAsSetting {
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (!m) return { user: v };
  return { uid: Number(m[1]), ...(m[2] !== undefined ? { gid: Number(m[2]) } : {}) };
}

export function addExecutionOptions(cmd: Command): Command {
  return cmd
    .option('--executors <list>', `executor kinds to run (${KNOWN_EXECUTORS.join(',')}; default: all available)`, (v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    )
    .option('--allow-shell <pattern>', 'allow shell commands matching this glob or /regex/ (repeatable)', collect)
    .option('--allow-http <host>', 'allow http requests to hosts matching this pattern (repeatable)', collect)
    .option('--allow-mcp <pattern>', 'allow MCP servers whose command line matches (repeatable)', collect)
    .option('--allow-adb <pattern>', 'allow adb operations matching (repeatable)', collect)
    .option('--allow-env <name>', 'allow tasks to set this env variable (pattern; repeatable) where an allowlist applies', collect)
    .option('--run-as <user>', 'run tasks as this account (name, uid or uid:gid; agent must be root)', parseRunAs)
    .option('--work-dir <dir>', 'root of per-task work dirs')
    .option('--adb <path>', 'adb binary (default: adb on PATH)')
    .option('--max-log-bytes <n>', 'output bytes forwarded per task (default 8388608)', parseBytes)
    .option('--max-output-bytes <n>', 'bytes kept per declared output (default 1048576)', parseBytes)
    .option('--max-artifact-bytes <n>', 'largest single artifact (default 1 GiB)', parseBytes)
    .option('--max-artifact-total-bytes <n>', "largest total of one task's output artifacts (default 4 GiB)", parseBytes)
    .option('--artifact-cache-bytes <n>', 'artifact cache size, LRU beyond it (default 10 GiB)', parseBytes);
}

export interface ExecutionFlags {
  executors?: string[];
  allowShell?: string[];
  allowHttp?: string[];
  allowMcp?: string[];
  allowAdb?: string[];
  allowEnv?: string[];
  runAs?: RunAsSetting;
  workDir?: string;
  adb?: string;
  maxLogBytes?: number;
  maxOutputBytes?: number;
  maxArtifactBytes?: number;
  maxArtifactTotalBytes?: number;
  artifactCacheBytes?: number;
}

/** The flags given, as config keys (flag > file: `allow` lists replace the file's list of the same name). */
export function executionFlagsAsConfig(flags: ExecutionFlags): ExecutionSettings {
  const allow: AllowSettings = {};
  if (flags.executors) allow.executors = flags.executors;
  if (flags.allowShell) allow.shell = flags.allowShell;
  if (flags.allowHttp) allow.http = flags.allowHttp;
  if (flags.allowMcp) allow.mcp = flags.allowMcp;
  if (flags.allowAdb) allow.adb = flags.allowAdb;
  if (flags.allowEnv) allow.env = flags.allowEnv;
  return {
    ...(Object.keys(allow).length > 0 ? { allow } : {}),
    ...(flags.runAs ? { runAs: flags.runAs } : {}),
    ...(flags.workDir ? { workDir: flags.workDir } : {}),
    ...(flags.adb ? { adbPath: flags.adb } : {}),
    ...(flags.maxLogBytes ? { maxLogBytes: flags.maxLogBytes } : {}),
    ...(flags.maxOutputBytes ? { maxOutputBytes: flags.maxOutputBytes } : {}),
    ...(flags.maxArtifactBytes ? { maxArtifactBytes: flags.maxArtifactBytes } : {}),
    ...(flags.maxArtifactTotalBytes ? { maxArtifactTotalBytes: flags.maxArtifactTotalBytes } : {}),
    ...(flags.artifactCacheBytes ? { artifactCacheBytes: flags.artifactCacheBytes } : {}),
  };
}

/** DeviceAgent options from the merged settings. */
export function executionAgentOptions(s: ExecutionSettings): Partial<DeviceAgentOptions> {
  const limits = {
    ...(s.maxLogBytes ? { maxForwardBytes: s.maxLogBytes } : {}),
    ...(s.maxOutputBytes ? { maxCaptureBytes: s.maxOutputBytes } : {}),
  };
  return {
    ...(s.allow ? { allow: s.allow } : {}),
    ...(s.runAs ? { runAs: s.runAs } : {}),
    ...(s.workDir ? { workDir: s.workDir } : {}),
    ...(s.adbPath ? { adbPath: s.adbPath } : {}),
    ...(Object.keys(limits).length > 0 ? { executor: limits } : {}),
    ...(s.maxArtifactBytes || s.maxArtifactTotalBytes || s.artifactCacheBytes
      ? {
          artifacts: {
            ...(s.maxArtifactBytes ? { maxArtifactBytes: s.maxArtifactBytes } : {}),
            ...(s.maxArtifactTotalBytes ? { maxTotalBytes: s.maxArtifactTotalBytes } : {}),
            ...(s.artifactCacheBytes ? { maxCacheBytes: s.artifactCacheBytes } : {}),
          },
        }
      : {}),
  };
}
