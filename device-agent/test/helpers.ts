// Shared test helpers: temp dirs, Assign builders, an agent on a fake session.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Assign, OutputSpec } from '@orrery/protocol';
import { DeviceAgent } from '../src/agent.js';
import type { DeviceAgentOptions } from '../src/agent-options.js';
import { FakeSession } from './fake-session.js';

export function tempDir(prefix = 'orrery-agent-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

let n = 0;

export function makeAssign(command: string, extra: Partial<Assign> & { outputs?: OutputSpec[] } = {}): Assign {
  n += 1;
  return {
    constellationId: 'c1',
    taskId: `t${n}`,
    attempt: 1,
    leaseMs: 10_000,
    executor: { kind: 'shell', command, env: {}, cwd: '', argsJson: '' },
    inputs: {},
    timeoutMs: 0,
    outputs: [],
    ...extra,
  };
}

/** Polls `cond` every 20 ms, at most `maxMs`. */
export async function waitFor(cond: () => boolean, maxMs = 5_000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('waitFor: condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * process.kill(pid, 0), except that a zombie counts as gone: where PID 1 does
 * not reap orphans (containers), a killed process lingers as a zombie.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

/** Settings for an executor under test: work dirs in `dir`, small kill grace. */
export function executorSettings(
  dir: string,
  extra: Partial<import('../src/executors/types.js').ExecutorSettings> = {},
) {
  return {
    workRoot: path.join(dir, 'work'),
    maxForwardBytes: 8 * 1024 * 1024,
    maxCaptureBytes: 1024 * 1024,
    killGraceMs: 500,
    baseEnv: process.env,
    keepWorkDirs: false,
    ...extra,
  };
}

/** An Assign for a non-shell executor kind with `args`. */
export function makeKindAssign(kind: string, args: unknown, extra: Partial<Assign> = {}): Assign {
  const a = makeAssign('', extra);
  a.executor = { ...a.executor, kind, argsJson: JSON.stringify(args) };
  return a;
}

/** Collects what an attempt reports through its hooks. */
export function recordHooks() {
  const out = { STDOUT: '', STDERR: '', SYSTEM: '' };
  const progress: Array<{ fraction: number; message: string }> = [];
  const pids: number[] = [];
  return {
    out,
    progress,
    pids,
    hooks: {
      onOutput: (stream: 'STDOUT' | 'STDERR', data: Uint8Array) => {
        out[stream] += Buffer.from(data).toString('utf8');
      },
      onNote: (text: string) => {
        out.SYSTEM += `${text}\n`;
      },
      onProgress: (u: { fraction: number; message: string }) => progress.push(u),
      onSpawn: (pid: number) => pids.push(pid),
    },
  };
}

/**
 * A real DeviceAgent whose session is a FakeSession: tests deliver frames and
 * read what the agent sent. `onSession` sees each session the agent opens.
 */
export async function startFakeAgent(
  opts: { name: string; dataDir: string } & Partial<DeviceAgentOptions>,
  onSession: (s: FakeSession) => void,
): Promise<DeviceAgent> {
  const agent = new DeviceAgent({
    serverUrl: 'ws://127.0.0.1:1',
    slots: 2,
    executor: { killGraceMs: 300 },
    flushTimeoutMs: 200,
    createSession: (config) => {
      const s = new FakeSession(config);
      onSession(s);
      return s;
    },
    ...opts,
  });
  await agent.start();
  return agent;
}

/** Delivers an Assign and waits for its Result. */
export async function resultFor(session: FakeSession, a: Assign) {
  session.deliver({ type: 'assign', value: a });
  await waitFor(() => session.of('result').some((r) => r.taskId === a.taskId), 15_000);
  return session.of('result').find((r) => r.taskId === a.taskId)!;
}
