// The agent config file (agent.yaml, YAML or JSON) in the platform's usual
// place. Its keys mirror the command-line options; precedence is
// flag (or its environment variable) > config file > built-in default.
//
// To add a key: add one entry to AGENT_CONFIG_SHAPE (check + description).
// Validation, unknown-key errors, `orrery-agent config` listings and the
// typed AgentConfig follow from it.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type ConfigIssue,
  type Field,
  int,
  list,
  num,
  object,
  oneOf,
  record,
  type ShapeValue,
  str,
} from './config-schema.js';
import { AgentError } from './errors.js';
import { EXECUTION_CONFIG_SHAPE, EXECUTION_PATH_KEYS } from './safety/execution-settings.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const f = <T>(check: Field<T>['check'], describe: string): Field<T> => ({ check, describe });

/** Every key the config file may hold. One place: add new keys here. */
export const AGENT_CONFIG_SHAPE = {
  server: f(
    str({ pattern: /^(wss?|grpcs?):\/\/\S+$/, hint: 'use ws://, wss://, grpc:// or grpcs://host:port' }),
    'orchestrator address (ws://, wss://, grpc://, grpcs://)',
  ),
  name: f(str(), 'device name shown by the orchestrator (default: hostname)'),
  labels: f(
    list(str({ pattern: /^[A-Za-z0-9_.:/-]{1,64}$/, hint: 'letters, digits and _ . : / -' }), { commaString: true }),
    'labels for task placement (list, or comma-separated)',
  ),
  slots: f(int({ min: 1, max: 4096 }), 'concurrent tasks (default: number of CPUs)'),
  dataDir: f(str(), 'state directory (relative paths are relative to the config file)'),
  ca: f(str(), 'PEM CA certificate file for wss:// or grpcs://'),
  logLevel: f(oneOf(LOG_LEVELS), 'trace, debug, info, warn, error, fatal or silent (default info)'),
  stopAfterDisconnect: f(int({ min: 1 }), 'ms: kill running tasks after this long without the orchestrator'),
  reconnectMaxMs: f(int({ min: 1 }), 'ms: longest wait between reconnection attempts (default 30000)'),
  resources: f(
    record(num({ min: 0 })),
    'user-declared resources sent with the capabilities, e.g. {vram-gb: 24, camera: 1}',
  ),
  // allow, runAs, workDir, adbPath, maxLogBytes, maxOutputBytes (safety/execution-settings.ts)
  ...EXECUTION_CONFIG_SHAPE,
};

export type AgentConfig = ShapeValue<typeof AGENT_CONFIG_SHAPE>;
export type AgentConfigKey = keyof typeof AGENT_CONFIG_SHAPE;

/** Keys holding file paths: relative values are resolved against the config file's directory. */
const PATH_KEYS: AgentConfigKey[] = ['dataDir', 'ca', ...EXECUTION_PATH_KEYS];

export type ConfigPlatform = 'linux' | 'darwin' | 'windows' | 'android';
export type ConfigScope = 'user' | 'system';

export interface ConfigLocationHost {
  env: NodeJS.ProcessEnv;
  platform: ConfigPlatform;
  home: string;
}

export function currentConfigPlatform(env: NodeJS.ProcessEnv = process.env): ConfigPlatform {
  if (process.platform === 'android' || env.TERMUX_VERSION || env.ANDROID_ROOT) return 'android';
  if (process.platform === 'darwin') return 'darwin';
  if (process.platform === 'win32') return 'windows';
  return 'linux';
}

function realHost(): ConfigLocationHost {
  return { env: process.env, platform: currentConfigPlatform(), home: os.homedir() };
}

/** The platform's usual place for agent.yaml, per user or system-wide. */
export function defaultConfigPath(scope: ConfigScope = 'user', host: ConfigLocationHost = realHost()): string {
  const { env, platform, home } = host;
  switch (platform) {
    case 'darwin':
      return scope === 'system'
        ? '/Library/Application Support/orrery/agent.yaml'
        : path.join(home, 'Library', 'Application Support', 'orrery', 'agent.yaml');
    case 'windows': {
      const base =
        scope === 'system'
          ? (env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData')
          : (env.APPDATA ?? path.win32.join(home, 'AppData', 'Roaming'));
      return path.win32.join(base, 'orrery', 'agent.yaml');
    }
    case 'android':
      // Termux has no /etc of its own that survives app updates well; one user anyway.
      return path.join(home, '.config', 'orrery', 'agent.yaml');
    default:
      return scope === 'system'
        ? '/etc/orrery/agent.yaml'
        : path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), 'orrery', 'agent.yaml');
  }
}

/**
 * The config file the agent reads when no --config is given:
 * $ORRERY_AGENT_CONFIG, else the per-user file, else the system one; the
 * first that exists. undefined: run on flags and defaults alone.
 */
export function findAgentConfig(host: ConfigLocationHost = realHost(), exists = existsSync): string | undefined {
  if (host.env.ORRERY_AGENT_CONFIG) return host.env.ORRERY_AGENT_CONFIG;
  for (const scope of ['user', 'system'] as const) {
    const p = defaultConfigPath(scope, host);
    if (exists(p)) return p;
  }
  return undefined;
}

export class AgentConfigError extends AgentError {
  constructor(
    code: 'AGENT_CONFIG_NOT_FOUND' | 'AGENT_CONFIG_PARSE' | 'AGENT_CONFIG_INVALID',
    message: string,
    readonly file: string,
    readonly issues: ConfigIssue[] = [],
  ) {
    super(code, message);
    this.name = 'AgentConfigError';
  }
}

/** Validates a parsed document; throws AGENT_CONFIG_INVALID listing every problem. */
export function validateAgentConfig(doc: unknown, file = '(config)'): AgentConfig {
  const issues: ConfigIssue[] = [];
  const values = object(AGENT_CONFIG_SHAPE)(doc ?? {}, '', issues) ?? {};
  if (issues.length > 0) {
    const lines = issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
    throw new AgentConfigError(
      'AGENT_CONFIG_INVALID',
      `${file} has ${issues.length === 1 ? 'a problem' : `${issues.length} problems`}:\n${lines}\n` +
        'Fix the file (or point --config at another one) and start the agent again.',
      file,
      issues,
    );
  }
  const base = path.dirname(path.resolve(file));
  for (const k of PATH_KEYS) {
    const v = values[k];
    if (typeof v === 'string') (values as Record<string, unknown>)[k] = path.resolve(base, v);
  }
  return values;
}

/**
 * Parses agent.yaml text. JSON is tried first (it is valid YAML too) so an
 * agent whose config is JSON never loads the YAML parser.
 */
export async function parseAgentConfigText(text: string, file: string): Promise<AgentConfig> {
  let doc: unknown;
  const trimmed = text.trim();
  if (trimmed === '') return {};
  try {
    doc = JSON.parse(trimmed);
  } catch {
    const YAML = await import('yaml');
    const parsed = YAML.parseDocument(text, { prettyErrors: true });
    if (parsed.errors.length > 0) {
      const e = parsed.errors[0]!;
      throw new AgentConfigError(
        'AGENT_CONFIG_PARSE',
        `${file}: not valid YAML or JSON: ${e.message.split('\n')[0]}${e.linePos ? ` (line ${e.linePos[0].line})` : ''}\n` +
          'Fix the syntax and start the agent again.',
        file,
      );
    }
    doc = parsed.toJS();
  }
  return validateAgentConfig(doc, file);
}

export interface LoadedAgentConfig {
  /** The file read, if any. */
  file?: string;
  values: AgentConfig;
}

/**
 * Reads the config: `explicitPath` (must exist) or the usual places
 * (optional). No file = empty config.
 */
export async function loadAgentConfig(explicitPath?: string, host: ConfigLocationHost = realHost()): Promise<LoadedAgentConfig> {
  const file = explicitPath ? path.resolve(explicitPath) : findAgentConfig(host);
  if (!file) return { values: {} };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' && !explicitPath && !host.env.ORRERY_AGENT_CONFIG) return { values: {} };
    throw new AgentConfigError(
      'AGENT_CONFIG_NOT_FOUND',
      `cannot read the config file ${file}: ${e.code ?? e.message}. ` +
        'Check the path given with --config (or ORRERY_AGENT_CONFIG), or create it with `orrery-agent install`.',
      file,
    );
  }
  return { file, values: await parseAgentConfigText(text, file) };
}

/**
 * Flag > config file > default. `flags` holds only what the user gave on
 * the command line or through an environment variable.
 */
export function mergeAgentConfig(file: AgentConfig, flags: AgentConfig, defaults: AgentConfig = {}): AgentConfig {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(file)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    // An --allow-* flag replaces that one list of the file's allowlist, not all of it.
    out[k] = k === 'allow' && typeof out[k] === 'object' ? { ...(out[k] as object), ...(v as object) } : v;
  }
  return out as AgentConfig;
}

/** agent.yaml text for `install`: the given keys, with a header saying where the options come from. */
export async function renderAgentConfig(values: AgentConfig): Promise<string> {
  const YAML = await import('yaml');
  const clean = Object.fromEntries(
    (Object.keys(AGENT_CONFIG_SHAPE) as AgentConfigKey[]).filter((k) => values[k] !== undefined).map((k) => [k, values[k]]),
  );
  return (
    '# Orrery device agent configuration (written by `orrery-agent install`).\n' +
    '# Keys mirror the command-line options; a flag given on the command line wins.\n' +
    '# See device-agent/README.md ("Config file") for every key.\n' +
    YAML.stringify(clean)
  );
}
