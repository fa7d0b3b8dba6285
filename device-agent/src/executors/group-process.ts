// A child process of a non-shell attempt (an MCP server, an adb command),
// started the way shell tasks are: in its own process group, with the
// attempt's environment and account, killed as a whole tree on cancel or
// timeout. `closed` resolves once the process and its group are gone.
import { type ChildProcess, spawn } from 'node:child_process';
import { groupAlive, killTree, type TreeKill } from '../process-tree.js';
import type { AttemptIo } from './attempt-runner.js';

export interface GroupProcess {
  readonly child: ChildProcess;
  /** How it ended; `error` when it could not start (ENOENT...). */
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>;
  /** SIGTERM the group, SIGKILL after the grace period (idempotent). */
  kill(): void;
}

export interface GroupSpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Run as the configured account (settings.runAs). Default true. */
  runAs?: boolean;
  stdin?: 'pipe' | 'ignore';
}

export function spawnInGroup(io: AttemptIo, command: string, args: string[], opts: GroupSpawnOptions): GroupProcess {
  const win = process.platform === 'win32';
  const runAs = opts.runAs !== false ? io.settings.runAs : undefined;
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: !win,
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    windowsHide: true,
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  let kill: TreeKill | undefined;
  const killGroup = (): void => {
    const pid = child.pid;
    if (pid === undefined) return;
    if (win) child.kill();
    else kill ??= killTree(pid, io.settings.killGraceMs);
  };
  const onAbort = (): void => killGroup();
  io.signal.addEventListener('abort', onAbort, { once: true });
  io.onHurry(() => kill?.hurry());
  if (io.signal.aborted) queueMicrotask(killGroup);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
    let startError: string | undefined;
    child.on('error', (err) => {
      startError = err.message;
      if (child.pid === undefined) {
        io.signal.removeEventListener('abort', onAbort);
        resolve({ code: null, signal: null, error: err.message });
      }
    });
    let settled = false;
    let safety: NodeJS.Timeout | undefined;
    // A process that escaped the group (setsid) may hold our pipes open for
    // ever, so `close` never comes: after `exit` and a grace period the pipes
    // are dropped and the process counts as closed (as shell tasks do).
    child.on('exit', () => {
      const pid = child.pid;
      if (pid !== undefined && !win && groupAlive(pid)) killGroup();
      safety = setTimeout(() => {
        child.stdin?.destroy();
        child.stdout?.destroy();
        child.stderr?.destroy();
        onClose(child.exitCode, child.signalCode);
      }, io.settings.killGraceMs + 2_000);
    });
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      if (safety) clearTimeout(safety);
      io.signal.removeEventListener('abort', onAbort);
      const pid = child.pid;
      // Leftovers in the group die with it, as for shell tasks.
      if (pid !== undefined && !win && groupAlive(pid)) killGroup();
      const end = { code, signal, ...(startError ? { error: startError } : {}) };
      if (kill) void kill.done.then(() => resolve(end));
      else resolve(end);
    };
    child.on('close', onClose);
  });
  if (child.pid !== undefined) io.spawned(child.pid);
  return { child, closed, kill: killGroup };
}
