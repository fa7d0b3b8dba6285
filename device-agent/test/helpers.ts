// Shared test helpers: temp dirs and Assign builders.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Assign, OutputSpec } from '@orrery/protocol';

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
export function executorSettings(dir: string, extra: Partial<import('../src/executors/types.js').ExecutorSettings> = {}) {
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
