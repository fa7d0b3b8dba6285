// Command line: `orrery-agent [options]` runs the agent; `install`,
// `uninstall`, `status` manage it as a service (service-commands.ts). The main `orrery` CLI reuses the same pieces:
// `program.addCommand(createAgentCommand('agent'))`, or agentMain() directly.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { DeviceAgent } from './agent.js';
import type { CreateSession } from './agent-options.js';
import { ensureDir } from './durable-file.js';
import { createCliLogger } from './logger.js';
import { type AgentRunState, writeRunState } from './run-state.js';
import { addServiceCommands } from './service-commands.js';
import { AGENT_VERSION } from './version.js';
import { type AgentConfig, loadAgentConfig, mergeAgentConfig } from './agent-config.js';
import { AgentError } from './errors.js';
import {
  addExecutionOptions,
  type ExecutionFlags,
  type ExecutionSettings,
  executionAgentOptions,
  executionFlagsAsConfig,
} from './safety/execution-settings.js';

export interface AgentMainOptions {
  server: string;
  name?: string;
  labels?: string[];
  slots?: number;
  /** Default: defaultDataDir(). */
  dataDir?: string;
  /** One-time enrollment token (used only while no credential is stored). */
  token?: string;
  /** PEM file with the CA that signed the orchestrator's certificate. */
  caFile?: string;
  logLevel?: string;
  logger?: Logger;
  /** Install SIGTERM/SIGINT handlers (drain, then kill on the second). Default true. */
  handleSignals?: boolean;
  createSession?: CreateSession;
  /** See DeviceAgentOptions.stopAfterDisconnectMs. */
  stopAfterDisconnectMs?: number;
  /** Cap of the reconnect backoff (default 30 s). */
  reconnectMaxMs?: number;
  /** User-declared resources (config file), sent with the capabilities. */
  resources?: Record<string, number>;
  /** Allowlist, run-as account, work dir, adb, output limits. */
  execution?: ExecutionSettings;
}

/** Per-user state dir: $ORRERY_AGENT_DATA_DIR, else the platform's convention. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.ORRERY_AGENT_DATA_DIR) return env.ORRERY_AGENT_DATA_DIR;
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'orrery-agent');
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'orrery-agent');
  return path.join(env.XDG_STATE_HOME || path.join(home, '.local', 'state'), 'orrery-agent');
}

/**
 * Runs the agent until it is stopped. Resolves with the process exit code:
 * 0 after a clean stop, 2 when the orchestrator ended the session for good.
 */
export async function agentMain(opts: AgentMainOptions): Promise<number> {
  const logger = opts.logger ?? (await createCliLogger(opts.logLevel ?? 'info'));
  const dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
  ensureDir(dataDir);
  // For `orrery-agent status`: which process, since when, and how it ended.
  let runState: AgentRunState = { pid: process.pid, startedAt: Date.now(), version: AGENT_VERSION, server: opts.server };
  writeRunState(dataDir, runState);
  const agent = new DeviceAgent({
    serverUrl: opts.server,
    dataDir,
    ...(opts.name ? { name: opts.name } : {}),
    ...(opts.labels ? { labels: opts.labels } : {}),
    ...(opts.slots !== undefined ? { slots: opts.slots } : {}),
    ...(opts.token ? { enrollToken: opts.token } : {}),
    ...(opts.caFile ? { caPem: readFileSync(opts.caFile, 'utf8') } : {}),
    ...(opts.createSession ? { createSession: opts.createSession } : {}),
    ...(opts.stopAfterDisconnectMs ? { stopAfterDisconnectMs: opts.stopAfterDisconnectMs } : {}),
    ...(opts.reconnectMaxMs ? { reconnect: { maxMs: opts.reconnectMaxMs } } : {}),
    ...(opts.resources ? { resources: opts.resources } : {}),
    ...(opts.execution ? executionAgentOptions(opts.execution) : {}),
    onConnection: ({ connected, deviceId, reason }) => {
      runState = { ...runState, connected, connectionChangedAt: Date.now(), ...(deviceId ? { deviceId } : {}) };
      if (reason) runState.disconnectReason = reason;
      else delete runState.disconnectReason;
      writeRunState(dataDir, runState);
    },
    logger,
  });
  return new Promise<number>((resolve, reject) => {
    let exitCode = 0;
    let signals = 0;
    const finish = (): void => {
      writeRunState(dataDir, { ...runState, exitCode, stoppedAt: Date.now() });
      if (opts.handleSignals !== false) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      resolve(exitCode);
    };
    function onSignal(sig: NodeJS.Signals): void {
      signals += 1;
      if (signals === 1) {
        logger.info({ signal: sig }, 'draining: finishing running tasks (send the signal again to kill them)');
        agent.stop({ drain: true }).then(finish, reject);
      } else {
        logger.warn({ signal: sig, running: agent.runningCount }, 'killing running tasks and exiting');
        agent.killAll(true);
      }
    }
    if (opts.handleSignals !== false) {
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    }
    agent.onEnd((why) => {
      exitCode = 2;
      logger.error({ why }, 'the orchestrator ended this device session; exiting');
      agent.stop({ drain: false }).then(finish, reject);
    });
    agent.start().catch((err: unknown) => {
      logger.error({ err }, 'agent failed to start');
      exitCode = 1;
      agent.stop({ drain: false }).then(finish, () => finish());
    });
  });
}

function parseList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseMs(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive number of milliseconds');
  return n;
}

function parseSlots(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('slots must be a positive integer');
  return n;
}

export interface CommonFlags {
  server?: string;
  name?: string;
  labels?: string[];
  slots?: number;
  dataDir?: string;
  token?: string;
  ca?: string;
  logLevel?: string;
  config?: string;
}

function addCommonOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--server <url>', 'orchestrator address (ws://, wss://, grpc://, grpcs://)').env('ORRERY_SERVER'))
    .option('--name <name>', 'device name (default: hostname)')
    .option('--labels <list>', 'comma-separated labels for task placement', parseList)
    .option('--slots <n>', 'concurrent tasks (default: number of CPUs)', parseSlots)
    .addOption(new Option('--data-dir <dir>', 'state directory (default: per-user state dir)').env('ORRERY_AGENT_DATA_DIR'))
    .addOption(new Option('--token <token>', 'one-time enrollment token').env('ORRERY_ENROLL_TOKEN'))
    .option('--ca <file>', 'PEM CA certificate for wss:// or grpcs://')
    .option('--log-level <level>', 'trace, debug, info, warn, error (default info)')
    .addOption(
      new Option('--config <file>', 'agent config file, YAML or JSON (default: the platform\'s usual place)').env('ORRERY_AGENT_CONFIG'),
    );
}

/** Flags given on the command line (or via their env vars) as config keys, for mergeAgentConfig. */
function flagsAsConfig(flags: CommonFlags & Partial<RunFlags>): AgentConfig {
  const out: Record<string, unknown> = {};
  const pick: Array<[keyof AgentConfig, unknown]> = [
    ['server', flags.server],
    ['name', flags.name],
    ['labels', flags.labels],
    ['slots', flags.slots],
    ['dataDir', flags.dataDir],
    ['ca', flags.ca],
    ['logLevel', flags.logLevel],
    ['stopAfterDisconnect', flags.stopAfterDisconnect],
    ['reconnectMaxMs', flags.reconnectMaxMs],
  ];
  for (const [k, v] of pick) if (v !== undefined) out[k] = v;
  Object.assign(out, executionFlagsAsConfig(flags));
  return out as AgentConfig;
}

/** Reads the config file and applies flag > file > default; errors carry AGENT_CONFIG_* codes. */
export async function resolveAgentConfig(flags: CommonFlags & Partial<RunFlags>): Promise<{ file?: string; config: AgentConfig }> {
  const loaded = await loadAgentConfig(flags.config);
  return { ...(loaded.file ? { file: loaded.file } : {}), config: mergeAgentConfig(loaded.values, flagsAsConfig(flags)) };
}

/** What agentMain needs from a merged config (the keys other modules add are read from `config`). */
export function agentMainOptionsFrom(config: AgentConfig, token?: string): AgentMainOptions {
  return {
    server: config.server!,
    logLevel: config.logLevel ?? 'info',
    ...(config.name ? { name: config.name } : {}),
    ...(config.labels ? { labels: config.labels } : {}),
    ...(config.slots !== undefined ? { slots: config.slots } : {}),
    ...(config.dataDir ? { dataDir: config.dataDir } : {}),
    ...(token ? { token } : {}),
    ...(config.ca ? { caFile: config.ca } : {}),
    ...(config.stopAfterDisconnect ? { stopAfterDisconnectMs: config.stopAfterDisconnect } : {}),
    ...(config.reconnectMaxMs ? { reconnectMaxMs: config.reconnectMaxMs } : {}),
    ...(config.resources ? { resources: config.resources } : {}),
    execution: {
      ...(config.allow ? { allow: config.allow } : {}),
      ...(config.runAs ? { runAs: config.runAs } : {}),
      ...(config.workDir ? { workDir: config.workDir } : {}),
      ...(config.adbPath ? { adbPath: config.adbPath } : {}),
      ...(config.maxLogBytes ? { maxLogBytes: config.maxLogBytes } : {}),
      ...(config.maxOutputBytes ? { maxOutputBytes: config.maxOutputBytes } : {}),
      ...(config.maxArtifactBytes ? { maxArtifactBytes: config.maxArtifactBytes } : {}),
      ...(config.maxArtifactTotalBytes ? { maxArtifactTotalBytes: config.maxArtifactTotalBytes } : {}),
      ...(config.artifactCacheBytes ? { artifactCacheBytes: config.artifactCacheBytes } : {}),
    },
  };
}

function reportConfigError(err: unknown): number {
  if (err instanceof AgentError) {
    process.stderr.write(`error ${err.code}: ${err.message}\n`);
    return 1;
  }
  throw err;
}

/** `agent` (run) with an `install` subcommand; `name` is how it appears in help. */
export function createAgentCommand(name = 'agent', onExit: (code: number) => void = () => {}): Command {
  const cmd = addExecutionOptions(addCommonOptions(new Command(name)))
    .option('--stop-after-disconnect <ms>', 'kill running tasks after this long without the orchestrator (off by default)', parseMs)
    .option('--reconnect-max-ms <ms>', 'longest wait between reconnection attempts (default 30000)', parseMs)
    .enablePositionalOptions()
    .description('run the Orrery device agent: dial out to the orchestrator and run assigned tasks')
    .version(AGENT_VERSION)
    .action(async (flags: RunFlags) => {
      let resolved: Awaited<ReturnType<typeof resolveAgentConfig>>;
      try {
        resolved = await resolveAgentConfig(flags);
      } catch (err) {
        onExit(reportConfigError(err));
        return;
      }
      if (!resolved.config.server) {
        cmd.error('error: --server <url> is required (or set ORRERY_SERVER, or `server:` in the config file)');
      }
      const code = await agentMain(agentMainOptionsFrom(resolved.config, flags.token));
      onExit(code);
    });
  // install writes the execution settings (allowlist, run-as...) into agent.yaml too.
  addServiceCommands(cmd, { addCommonOptions: (c) => addExecutionOptions(addCommonOptions(c)), flagsAsConfig, onExit });
  return cmd;
}

export interface RunFlags extends CommonFlags, ExecutionFlags {
  stopAfterDisconnect?: number;
  reconnectMaxMs?: number;
}

/** Entry of bin/orrery-agent.js: `argv` are the user's arguments (process.argv.slice(2)). */
export async function runAgentCli(argv: string[]): Promise<number> {
  let code = 0;
  const program = createAgentCommand('orrery-agent', (c) => {
    code = c;
  });
  program.exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    return e.exitCode ?? 1;
  }
  return code;
}
