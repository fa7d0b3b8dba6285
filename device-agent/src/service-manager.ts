// install / uninstall / status: writes agent.yaml and the service definition,
// runs the platform tool (systemctl, launchctl, schtasks, sh) when it is
// there, and otherwise prints the exact commands to run. `dryRun` prints
// every file and command instead of touching anything.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AgentConfig, loadAgentConfig, mergeAgentConfig, renderAgentConfig } from './agent-config.js';
import { writeEnrollTokenFile } from './credentials.js';
import { AgentError } from './errors.js';
import { onPath } from './probe-host.js';
import { type AgentRunState, readRunState } from './run-state.js';
import {
  type PlanHost,
  planService,
  SERVICE_NAME,
  type ServicePlan,
  type ServicePlatform,
  type ServiceScope,
  type ServiceSpec,
  serviceConfigPath,
} from './service.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type RunCommand = (argv: string[]) => Promise<CommandResult>;

export interface ServiceContext {
  platform: ServicePlatform;
  scope: ServiceScope;
  host: PlanHost;
  /** Print instead of doing. */
  dryRun?: boolean;
  out?: (text: string) => void;
  /** Runs a platform command; default: spawn without a shell, 60 s limit. */
  run?: RunCommand;
  /** Is the platform tool usable here? Default: on PATH (and systemd booted, for systemctl). */
  toolAvailable?: (tool: string) => boolean;
}

export function realPlanHost(): PlanHost {
  return {
    home: os.homedir(),
    env: process.env,
    ...(typeof process.getuid === 'function' ? { uid: process.getuid() } : {}),
  };
}

const runReal: RunCommand = (argv) =>
  new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', (err) => resolve({ code: 127, stdout, stderr: err.message }));
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });

function defaultToolAvailable(tool: string): boolean {
  if (!onPath({ env: process.env, platform: process.platform, exists: existsSync }, tool)) return false;
  // systemctl exists in many containers whose PID 1 is not systemd.
  if (tool === 'systemctl') return existsSync('/run/systemd/system');
  return true;
}

export function displayCommand(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./\\-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The data dir a service uses when neither flag nor config names one. */
export function serviceDataDir(platform: ServicePlatform, scope: ServiceScope, host: PlanHost): string {
  if (platform === 'linux' && scope === 'system') return `/var/lib/${SERVICE_NAME}`;
  if (platform === 'darwin' && scope === 'system') return `/Library/Application Support/${SERVICE_NAME}`;
  if (platform === 'windows') {
    const base =
      scope === 'system'
        ? (host.env.ProgramData ?? 'C:\\ProgramData')
        : (host.env.LOCALAPPDATA ?? path.win32.join(host.home, 'AppData', 'Local'));
    return path.win32.join(base, SERVICE_NAME);
  }
  if (platform === 'darwin') return path.join(host.home, 'Library', 'Application Support', SERVICE_NAME);
  return path.join(host.env.XDG_STATE_HOME || path.join(host.home, '.local', 'state'), SERVICE_NAME);
}

export interface InstallRequest {
  /** Values from flags (override what an existing config file holds). */
  config: AgentConfig;
  /** Where to write agent.yaml; default: the platform's usual place for the scope. */
  configPath?: string;
  token?: string;
  user?: string;
  nodeFlags?: string[];
  command?: string[];
  /** Register and start the service now (default true). */
  start?: boolean;
}

interface Prepared {
  configPath: string;
  config: AgentConfig;
  spec: ServiceSpec;
  plan: ServicePlan;
}

async function prepare(
  ctx: ServiceContext,
  req: Pick<InstallRequest, 'config' | 'configPath' | 'user' | 'nodeFlags' | 'command'>,
): Promise<Prepared> {
  const configPath = req.configPath
    ? path.resolve(req.configPath)
    : serviceConfigPath(ctx.platform, ctx.scope, ctx.host);
  // Keep what an existing file holds (other keys, e.g. safety settings); flags win.
  const existing = existsSync(configPath) ? (await loadAgentConfig(configPath)).values : {};
  const config = mergeAgentConfig(existing, req.config);
  config.dataDir ??= serviceDataDir(ctx.platform, ctx.scope, ctx.host);
  const spec: ServiceSpec = {
    configPath,
    dataDir: config.dataDir,
    scope: ctx.scope,
    ...(config.name ? { name: config.name } : {}),
    ...(req.user ? { user: req.user } : {}),
    ...(req.nodeFlags ? { nodeFlags: req.nodeFlags } : {}),
    ...(req.command ? { command: req.command } : {}),
  };
  return { configPath, config, spec, plan: planService(spec, ctx.platform, ctx.host) };
}

function writeFile(file: string, text: string, mode: number, encoding: 'utf8' | 'utf16le' = 'utf8'): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const data = encoding === 'utf16le' ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]) : text;
    writeFileSync(file, data, { mode });
    chmodSync(file, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw err;
    throw new AgentError(
      'AGENT_SERVICE_PERMISSION',
      `cannot write ${file} (${code}). A system-wide service (--system) needs root: run it with sudo, ` +
        'or install a per-user service without --system. Nothing else was changed after this file.',
    );
  }
}

/** Runs commands in order while the tool is there; returns what was left for the user. */
async function runSteps(
  ctx: ServiceContext,
  steps: string[][],
  out: (t: string) => void,
  stopOnError: boolean,
): Promise<string[][]> {
  const run = ctx.run ?? runReal;
  const available = ctx.toolAvailable ?? defaultToolAvailable;
  for (let i = 0; i < steps.length; i++) {
    const argv = steps[i]!;
    if (!available(argv[0]!)) {
      out(`${argv[0]} is not usable here; run these yourself:\n`);
      return steps.slice(i);
    }
    const r = await run(argv);
    out(
      `ran: ${displayCommand(argv)}${r.code === 0 ? '' : ` (exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''})`}\n`,
    );
    if (r.code !== 0 && stopOnError) return steps.slice(i);
  }
  return [];
}

export async function installService(ctx: ServiceContext, req: InstallRequest): Promise<number> {
  const out = ctx.out ?? ((t: string) => process.stdout.write(t));
  const p = await prepare(ctx, req);
  if (!p.config.server) {
    out('error AGENT_CONFIG_INVALID: no server: pass --server <url> (or put `server:` in the config file)\n');
    return 1;
  }
  const configText = await renderAgentConfig(p.config);
  const tokenFile = path.join(p.config.dataDir!, 'enroll-token');
  const steps = req.start === false ? [] : p.plan.enable;
  if (ctx.dryRun) {
    out(`# ${p.plan.platform} (${p.plan.scope}) service; nothing is written in --dry-run\n`);
    out(`# would write ${p.configPath} (mode 0600)\n${configText}`);
    for (const f of p.plan.files) out(`# would write ${f.path} (mode 0${f.mode.toString(8)})\n${f.text}`);
    if (req.token) out(`# would write the enrollment token to ${tokenFile} (mode 0600)\n`);
    for (const s of steps) out(`# would run: ${displayCommand(s)}\n`);
    for (const n of p.plan.notes) out(`# note: ${n}\n`);
    return 0;
  }
  writeFile(p.configPath, configText, 0o600);
  out(`wrote ${p.configPath}\n`);
  mkdirSync(p.config.dataDir!, { recursive: true, mode: 0o700 });
  if (req.token) {
    // The token goes to a private file, never into the config or service file.
    writeEnrollTokenFile(p.config.dataDir!, req.token);
    out(`wrote the enrollment token to ${tokenFile}\n`);
  }
  for (const f of p.plan.files) {
    writeFile(f.path, f.text, f.mode, f.encoding);
    out(`wrote ${f.path}\n`);
  }
  if (p.plan.platform !== 'windows' && p.plan.scope === 'system' && req.user && process.getuid?.() === 0) {
    // The service's account must own its state (and read its config).
    await (ctx.run ?? runReal)(['chown', '-R', req.user, p.config.dataDir!]);
    await (ctx.run ?? runReal)(['chown', req.user, p.configPath]);
  }
  const left = await runSteps(ctx, steps, out, true);
  for (const s of left) out(`  ${displayCommand(s)}\n`);
  for (const n of p.plan.notes) out(`note: ${n}\n`);
  if (left.length === 0 && steps.length > 0)
    out('the agent service is installed and started; check it with `orrery-agent status`\n');
  return 0;
}

export interface UninstallRequest {
  configPath?: string;
  /** Also remove the config file and the data dir (credentials, outbox). */
  purge?: boolean;
}

export async function uninstallService(ctx: ServiceContext, req: UninstallRequest): Promise<number> {
  const out = ctx.out ?? ((t: string) => process.stdout.write(t));
  const p = await prepare(ctx, { config: {}, ...(req.configPath ? { configPath: req.configPath } : {}) });
  const dataDir = p.config.dataDir!;
  if (ctx.dryRun) {
    for (const s of p.plan.disable) out(`# would run: ${displayCommand(s)}\n`);
    if (p.plan.platform === 'android')
      out(`# would stop the supervisor in ${path.join(dataDir, 'supervisor.pid')} (SIGTERM: the agent drains)\n`);
    for (const f of p.plan.files) out(`# would remove ${f.path}\n`);
    if (req.purge) out(`# would remove ${p.configPath}\n# would remove ${dataDir}\n`);
    else out(`# would keep ${p.configPath} and ${dataDir} (--purge removes them)\n`);
    return 0;
  }
  const left = await runSteps(ctx, p.plan.disable, out, false);
  for (const s of left) out(`  ${displayCommand(s)}\n`);
  if (p.plan.platform === 'android') await stopSupervisor(dataDir, out);
  for (const f of p.plan.files) {
    if (existsSync(f.path)) {
      rmSync(f.path, { force: true });
      out(`removed ${f.path}\n`);
    }
  }
  if (p.plan.platform === 'linux' && (ctx.toolAvailable ?? defaultToolAvailable)('systemctl')) {
    await (ctx.run ?? runReal)([
      ...(p.plan.scope === 'system' ? ['systemctl'] : ['systemctl', '--user']),
      'daemon-reload',
    ]);
  }
  if (req.purge) {
    rmSync(p.configPath, { force: true });
    rmSync(dataDir, { recursive: true, force: true });
    out(`removed ${p.configPath} and ${dataDir}\n`);
  } else {
    out(`kept ${p.configPath} and ${dataDir} (credentials, undelivered results); --purge removes them\n`);
  }
  return 0;
}

/** Termux/sh supervisor: SIGTERM makes the loop drain the agent and end. */
async function stopSupervisor(dataDir: string, out: (t: string) => void): Promise<void> {
  const pid = readPid(path.join(dataDir, 'supervisor.pid'));
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + 330_000;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  out(
    alive(pid) ? `supervisor ${pid} still running after the drain timeout\n` : `stopped the supervisor (pid ${pid})\n`,
  );
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (containers whose PID 1 does not reap). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

export interface ServiceStatus {
  platform: ServicePlatform;
  scope: ServiceScope;
  installed: boolean;
  definition: string;
  configPath: string;
  dataDir: string;
  /** From the platform tool (systemctl, launchctl, schtasks) or the supervisor pid file. */
  manager: {
    available: boolean;
    running?: boolean;
    pid?: number;
    lastExit?: number;
    restarts?: number;
    state?: string;
  };
  /** From <dataDir>/agent-state.json. */
  agent?: AgentRunState & { running: boolean };
  running: boolean;
}

/** key=value lines (systemctl show). */
function keyValues(text: string, sep: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = sep.exec(line);
    if (m) out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}

export function parseManagerOutput(platform: ServicePlatform, text: string): ServiceStatus['manager'] {
  const num = (v: string | undefined): number | undefined =>
    v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
  switch (platform) {
    case 'linux': {
      const kv = keyValues(text, /^([A-Za-z]+)=(.*)$/);
      const pid = num(kv.MainPID);
      return {
        available: true,
        running: kv.ActiveState === 'active',
        ...(pid ? { pid } : {}),
        ...(num(kv.ExecMainStatus) !== undefined ? { lastExit: num(kv.ExecMainStatus) } : {}),
        ...(num(kv.NRestarts) !== undefined ? { restarts: num(kv.NRestarts) } : {}),
        state: `${kv.LoadState ?? '?'}/${kv.ActiveState ?? '?'}/${kv.SubState ?? '?'}`,
      };
    }
    case 'darwin': {
      const kv = keyValues(text, /^\s*([a-z ]+?) = (.*)$/);
      const pid = num(kv.pid);
      return {
        available: true,
        running: kv.state === 'running',
        ...(pid ? { pid } : {}),
        ...(num(kv['last exit code']) !== undefined ? { lastExit: num(kv['last exit code']) } : {}),
        ...(num(kv.runs) !== undefined ? { restarts: Math.max(0, (num(kv.runs) ?? 1) - 1) } : {}),
        ...(kv.state ? { state: kv.state } : {}),
      };
    }
    case 'windows': {
      const kv = keyValues(text, /^([A-Za-z ]+):\s+(.*)$/);
      return {
        available: true,
        running: kv.Status === 'Running',
        ...(num(kv['Last Result']) !== undefined ? { lastExit: num(kv['Last Result']) } : {}),
        ...(kv.Status ? { state: kv.Status } : {}),
      };
    }
    case 'android':
      return { available: false };
  }
}

export async function serviceStatus(ctx: ServiceContext, req: { configPath?: string }): Promise<ServiceStatus> {
  const p = await prepare(ctx, { config: {}, ...(req.configPath ? { configPath: req.configPath } : {}) });
  const dataDir = p.config.dataDir!;
  let manager: ServiceStatus['manager'] = { available: false };
  const cmd = p.plan.status[0];
  if (cmd && (ctx.toolAvailable ?? defaultToolAvailable)(cmd[0]!)) {
    const r = await (ctx.run ?? runReal)(cmd);
    manager =
      r.code === 0
        ? parseManagerOutput(ctx.platform, r.stdout)
        : { available: true, running: false, state: 'not loaded' };
  } else if (p.plan.platform === 'android') {
    const pid = readPid(path.join(dataDir, 'supervisor.pid'));
    manager = {
      available: true,
      running: pid !== undefined && alive(pid),
      ...(pid ? { pid } : {}),
      state: 'sh supervisor',
    };
  }
  const rs = readRunState(dataDir);
  const agent = rs ? { ...rs, running: rs.exitCode === undefined && alive(rs.pid) } : undefined;
  return {
    platform: p.plan.platform,
    scope: p.plan.scope,
    installed: existsSync(p.plan.file.path),
    definition: p.plan.file.path,
    configPath: p.configPath,
    dataDir,
    manager,
    ...(agent ? { agent } : {}),
    running: agent?.running ?? manager.running ?? false,
  };
}

export function formatStatus(s: ServiceStatus): string {
  const lines = [
    `service:    ${s.installed ? 'installed' : 'not installed'} (${s.platform}, ${s.scope}) ${s.definition}`,
    `config:     ${s.configPath}${existsSync(s.configPath) ? '' : ' (missing)'}`,
    `data dir:   ${s.dataDir}`,
  ];
  const m = s.manager;
  if (m.available) {
    const bits = [
      m.state,
      m.pid ? `pid ${m.pid}` : undefined,
      m.lastExit !== undefined ? `last exit ${m.lastExit}` : undefined,
    ];
    if (m.restarts !== undefined) bits.push(`${m.restarts} restarts`);
    lines.push(
      `manager:    ${m.running ? 'running' : 'not running'}${bits.some(Boolean) ? ` (${bits.filter(Boolean).join(', ')})` : ''}`,
    );
  } else {
    lines.push('manager:    its tool is not usable here');
  }
  const a = s.agent;
  if (a) {
    const since = new Date(a.startedAt).toISOString();
    const link =
      a.connected === undefined
        ? 'not connected yet'
        : a.connected
          ? `connected as ${a.deviceId ?? '?'} since ${new Date(a.connectionChangedAt ?? 0).toISOString()}`
          : `disconnected since ${new Date(a.connectionChangedAt ?? 0).toISOString()}${a.disconnectReason ? ` (${a.disconnectReason})` : ''}`;
    lines.push(
      a.running
        ? `agent:      running, pid ${a.pid}, since ${since}, version ${a.version}, server ${a.server}, ${link}`
        : a.exitCode !== undefined
          ? `agent:      exited ${a.exitCode} at ${new Date(a.stoppedAt ?? 0).toISOString()}${a.exitCode === 2 ? ' (the orchestrator ended this device session: re-enroll it)' : ''}`
          : `agent:      not running; pid ${a.pid} (started ${since}) ended without an exit record (killed?)`,
    );
  } else {
    lines.push('agent:      has not run with this data dir yet');
  }
  return `${lines.join('\n')}\n`;
}
