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
