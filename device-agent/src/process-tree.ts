// Killing a task's whole process tree. On POSIX every task leads its own
// process group (spawned detached), so signalling -pgid reaches children and
// grandchildren too. Windows has no groups: taskkill /T walks the tree.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** True while any process of the group led by `pgid` is alive (zombies do not count). */
export function groupAlive(pgid: number): boolean {
  if (process.platform === 'win32') return pidAlive(pgid);
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // kill(0) also succeeds for zombies, which linger where PID 1 does not reap
  // orphans (containers without an init). On Linux, look for a live member.
  return process.platform === 'linux' ? liveGroupMemberOnLinux(pgid) : true;
}

/** Process state letter from /proc/<pid>/stat ('Z' = zombie), undefined if gone or not Linux. */
export function procState(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', pgrp: Number(rest[2]) };
  } catch {
    return undefined;
  }
}

function liveGroupMemberOnLinux(pgid: number): boolean {
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const name of pids) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = procState(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z' && st.state !== 'X') return true;
  }
  return false;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export interface TreeKill {
  /** Resolves once the group is gone (or after the SIGKILL was sent). */
  readonly done: Promise<void>;
  /** Skip the grace period and SIGKILL now. */
  hurry(): void;
}

/**
 * SIGTERM the group, then SIGKILL whatever is left after `graceMs`.
 * The group is polled cheaply so `done` resolves soon after it is empty.
 */
export function killTree(pgid: number, graceMs: number): TreeKill {
  if (process.platform === 'win32') {
    const p = spawn('taskkill', ['/pid', String(pgid), '/T', '/F'], { stdio: 'ignore', windowsHide: true });
    const done = new Promise<void>((resolve) => {
      p.on('exit', () => resolve());
      p.on('error', () => resolve());
    });
    return { done, hurry: () => {} };
  }
  signalGroup(pgid, 'SIGTERM');
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = Date.now();
  let poll: NodeJS.Timeout | undefined;
  let stopped = false;
  const kill = (): void => {
    stopped = true;
    if (poll) clearTimeout(poll);
    signalGroup(pgid, 'SIGKILL');
    finish();
  };
  // Polled from 2 ms up to 100 ms: a group that is already empty (the usual
  // case once the main process exited) ends the wait at once instead of after
  // a fixed 100 ms, which every task would otherwise pay.
  const maxEvery = Math.max(10, Math.min(100, graceMs / 4));
  let every = 2;
  const check = (): void => {
    if (stopped) return;
    if (!groupAlive(pgid)) {
      stopped = true;
      finish();
    } else if (Date.now() - started >= graceMs) {
      kill();
    } else {
      poll = setTimeout(check, every);
      every = Math.min(maxEvery, every * 2);
    }
  };
  check();
  return { done, hurry: kill };
}
