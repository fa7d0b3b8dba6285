// Test harness: real orchestrator and agent processes on loopback, started
// from the built CLI, with bounded waits. Used by integration, fault and
// browser tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO_ROOT, 'orchestrator/bin/orrery.js');

export interface ProcessHandle {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr). */
  output(): string;
  /** Sends a signal and waits (bounded) for the exit. */
  kill(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  exited: Promise<number | null>;
}

export function spawnCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): ProcessHandle {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ORRERY_LOG_FORMAT: 'json', NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const cap = (b: Buffer): void => {
    out += b.toString();
    if (out.length > 2_000_000) out = out.slice(-1_000_000);
  };
  child.stdout?.on('data', cap);
  child.stderr?.on('data', cap);
  const exited = new Promise<number | null>((r) => child.once('exit', (code, sig) => r(code ?? (sig ? 128 : null))));
  return {
    child,
    output: () => out,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
      const res = await Promise.race([exited, timer]);
      if (res === 'timeout') {
        child.kill('SIGKILL');
        return exited;
      }
      return res;
    },
  };
}

/** Thrown from a waitFor check to stop waiting at once (e.g. the process died). */
export class GiveUp extends Error {}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface OrchestratorHandle extends ProcessHandle {
  url: string;
  aipUrl: string;
  grpcUrl?: string;
  dataDir: string;
}

export async function startOrchestrator(
  opts: { dataDir?: string; args?: string[]; heartbeatMs?: number; env?: Record<string, string>; port?: number; auth?: boolean } = {},
): Promise<OrchestratorHandle> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'orrery-orch-'));
  const info = join(dataDir, 'server.json');
  rmSync(info, { force: true });
  const handle = spawnCli(
    [
      'server',
      '--port',
      String(opts.port ?? 0),
      '--data-dir',
      dataDir,
      ...(opts.auth ? [] : ['--no-auth']),
      '--heartbeat-ms',
      String(opts.heartbeatMs ?? 500),
      ...(opts.args ?? []),
    ],
    { env: opts.env },
  );
  const started = await waitFor(
    () => {
      if (handle.child.exitCode !== null) throw new GiveUp(`orchestrator exited early:\n${handle.output()}`);
      return existsSync(info) ? (JSON.parse(readFileSync(info, 'utf8')) as { url: string; aipUrl: string; grpcUrl?: string }) : undefined;
    },
    'the orchestrator to listen',
    30_000,
  );
  return { ...handle, url: started.url, aipUrl: started.aipUrl, grpcUrl: started.grpcUrl, dataDir };
}

export interface AgentHandle extends ProcessHandle {
  name: string;
  dataDir: string;
}

export function startAgent(opts: {
  server: string;
  name: string;
  labels?: string[];
  slots?: number;
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
}): AgentHandle {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `orrery-agent-${opts.name}-`));
  const args = ['agent', '--server', opts.server, '--name', opts.name, '--data-dir', dataDir];
  if (opts.labels?.length) args.push('--labels', opts.labels.join(','));
  if (opts.slots) args.push('--slots', String(opts.slots));
  const handle = spawnCli([...args, ...(opts.args ?? [])], { env: opts.env });
  return { ...handle, name: opts.name, dataDir };
}

/** JSON over HTTP against the orchestrator; throws with the problem body on errors. */
export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
  if (!res.ok) throw Object.assign(new Error(`${method} ${path} -> ${res.status}: ${text}`), { status: res.status, body: parsed });
  return parsed as T;
}

export interface Stack {
  url: string;
  aipUrl: string;
  dataDir: string;
  orchestrator: OrchestratorHandle;
  agents: AgentHandle[];
  /** Waits until every agent shows as online. */
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/** An orchestrator plus agents, ready to run graphs. */
export async function startStack(
  opts: {
    agents?: Array<{ name: string; labels?: string[]; slots?: number; args?: string[]; env?: Record<string, string> }>;
    heartbeatMs?: number;
    serverArgs?: string[];
  } = {},
): Promise<Stack> {
  const orchestrator = await startOrchestrator({ heartbeatMs: opts.heartbeatMs, args: opts.serverArgs });
  const agents = (opts.agents ?? [{ name: 'local-1' }]).map((a) => startAgent({ server: orchestrator.aipUrl, ...a }));
  const stack: Stack = {
    url: orchestrator.url,
    aipUrl: orchestrator.aipUrl,
    dataDir: orchestrator.dataDir,
    orchestrator,
    agents,
    async ready() {
      await waitFor(async () => {
        const { items } = await api<{ items: Array<{ name: string; status: string }> }>(orchestrator.url, 'GET', '/v1/devices');
        return agents.every((a) => items.some((d) => d.name === a.name && d.status === 'online'));
      }, 'agents to come online');
    },
    async stop() {
      await Promise.all(agents.map((a) => a.kill('SIGKILL')));
      await orchestrator.kill('SIGTERM');
    },
  };
  await stack.ready();
  return stack;
}
