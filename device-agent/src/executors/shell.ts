// The `shell` executor: runs an Assign's command line in its own process
// group, streams its output with a per-attempt cap, enforces the timeout and
// cancellation by killing the whole tree, and turns the end into a Result.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Assign, Result, ResultOutcome, TaskRef } from '@orrery/protocol/client';
import { groupAlive, killTree } from '../process-tree.js';
import { parseProgressLines } from '../progress-marker.js';
import { type CommandPolicy, notAllowed } from '../safety/policy.js';
import { extractOutputs, trimTrailingNewline } from '../task-outputs.js';
import { buildAttemptEnv, defaultWorkDir, giveWorkDir, makeWorkDir } from './attempt-env.js';
import { OutputBudget } from './output-budget.js';
import type { AssignProblem, AttemptHooks, RunAs, RunningAttempt, TaskExecutor } from './types.js';

export { inputEnvName } from './attempt-env.js';
export type { AttemptHooks, RunningAttempt } from './types.js';

export const DEFAULT_MAX_FORWARD_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_CAPTURE_BYTES = 1024 * 1024;
export const DEFAULT_KILL_GRACE_MS = 5_000;

export interface ShellExecutorOptions {
  /** Per-attempt work dirs are created under it. */
  workRoot: string;
  /** Output bytes (stdout+stderr) forwarded per attempt; beyond it output is dropped. */
  maxForwardBytes?: number;
  /** Bytes of stdout (and of an output file) kept for outputs. */
  maxCaptureBytes?: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Environment the task inherits; default process.env. */
  baseEnv?: NodeJS.ProcessEnv;
  /** Keep default work dirs after the attempt (debugging). */
  keepWorkDirs?: boolean;
  /** Run commands as this account. */
  runAs?: RunAs;
  /** Command patterns this device allows (undefined: any command). */
  allow?: CommandPolicy;
}

export class ShellExecutor implements TaskExecutor {
  readonly kind = 'shell';
  readonly workRoot: string;
  private readonly maxForward: number;
  private readonly maxCapture: number;
  private readonly graceMs: number;
  private readonly baseEnv: NodeJS.ProcessEnv;
  private readonly keepWorkDirs: boolean;
  private readonly runAs: RunAs | undefined;
  private readonly allow: CommandPolicy | undefined;

  constructor(opts: ShellExecutorOptions) {
    this.workRoot = opts.workRoot;
    this.maxForward = opts.maxForwardBytes ?? DEFAULT_MAX_FORWARD_BYTES;
    this.maxCapture = opts.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES;
    this.graceMs = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    this.baseEnv = opts.baseEnv ?? process.env;
    this.keepWorkDirs = opts.keepWorkDirs ?? false;
    this.runAs = opts.runAs;
    this.allow = opts.allow;
  }

  defaultWorkDir(ref: TaskRef): string {
    return defaultWorkDir(this.workRoot, ref);
  }

  check(assign: Assign): AssignProblem | undefined {
    const command = assign.executor.command;
    if (!command) return { code: 'BAD_ASSIGN', message: 'shell executor needs a command' };
    if (this.allow && !this.allow.matches(command))
      return notAllowed(this.allow, `shell command ${JSON.stringify(command.slice(0, 200))}`);
    return undefined;
  }

  describe(assign: Assign): string {
    return assign.executor.command.slice(0, 200);
  }

  run(assign: Assign, hooks: AttemptHooks = {}): RunningAttempt {
    return new ShellAttempt(this, assign, hooks, {
      maxForward: this.maxForward,
      maxCapture: this.maxCapture,
      graceMs: this.graceMs,
      baseEnv: this.baseEnv,
      keepWorkDirs: this.keepWorkDirs,
      ...(this.runAs ? { runAs: this.runAs } : {}),
    });
  }
}

interface AttemptLimits {
  maxForward: number;
  maxCapture: number;
  graceMs: number;
  baseEnv: NodeJS.ProcessEnv;
  keepWorkDirs: boolean;
  runAs?: RunAs;
}

type StopCause = { kind: 'timeout' } | { kind: 'cancel'; reason: string };

class ShellAttempt implements RunningAttempt {
  readonly ref: TaskRef;
  readonly cwd: string;
  readonly done: Promise<Result>;
  private child: ChildProcess | undefined;
  private readonly ownsCwd: boolean;
  private readonly base: string;
  private readonly startedAtMs = Date.now();
  private stop: StopCause | undefined;
  private kill: { hurry(): void; done: Promise<void> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly output: OutputBudget;
  private progressTail = '';
  private resolve!: (r: Result) => void;

  constructor(
    executor: ShellExecutor,
    private readonly assign: Assign,
    private readonly hooks: AttemptHooks,
    private readonly limits: AttemptLimits,
  ) {
    const { constellationId, taskId, attempt } = assign;
    this.ref = { constellationId, taskId, attempt };
    this.output = new OutputBudget(limits.maxForward, limits.maxCapture, {
      onOutput: (stream, data, offset) => hooks.onOutput?.(stream, data, offset),
      note: (text) => this.note(text),
    });
    this.done = new Promise<Result>((r) => {
      this.resolve = r;
    });
    const spec = assign.executor;
    const base = executor.defaultWorkDir(this.ref);
    this.base = base;
    this.ownsCwd = !(spec.cwd && path.isAbsolute(spec.cwd)) && !limits.keepWorkDirs;
    this.cwd = spec.cwd ? path.resolve(base, spec.cwd) : base;
    try {
      makeWorkDir(this.cwd, base, limits.runAs, assign.inputs);
    } catch (err) {
      this.finish({ exitCode: -1, signal: '', error: `AGENT_SPAWN_FAILED: ${(err as Error).message}` });
      return;
    }
    if (!hooks.prepare) {
      this.startSafely(base);
      return;
    }
    this.preparing = true;
    hooks.prepare(this.cwd).then(
      () => {
        this.preparing = false;
        // Cancelled while preparing: finish() already ran.
        if (!this.finished) this.startSafely(base);
      },
      (err: unknown) => {
        this.preparing = false;
        this.finish({ exitCode: -1, signal: '', error: (err as Error).message });
      },
    );
  }

  private preparing = false;

  private startSafely(base: string): void {
    try {
      // Artifact inputs are in place: only now does the task's account get the dir.
      giveWorkDir(this.cwd, base, this.limits.runAs);
      this.start(base);
    } catch (err) {
      this.finish({ exitCode: -1, signal: '', error: `AGENT_SPAWN_FAILED: ${(err as Error).message}` });
    }
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  private buildEnv(base: string): NodeJS.ProcessEnv {
    return buildAttemptEnv(this.assign, {
      baseEnv: this.limits.baseEnv,
      cwd: this.cwd,
      base,
      ...(this.limits.runAs ? { runAs: this.limits.runAs } : {}),
      note: (text) => this.note(text),
    });
  }

  private start(base: string): void {
    const command = this.assign.executor.command;
    const win = process.platform === 'win32';
    const child = spawn(
      win ? (process.env.ComSpec ?? 'cmd.exe') : '/bin/sh',
      win ? ['/d', '/s', '/c', command] : ['-c', command],
      {
        cwd: this.cwd,
        env: this.buildEnv(base),
        // Leads its own process group, so the whole tree can be signalled.
        detached: !win,
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
        windowsVerbatimArguments: win,
        ...(this.limits.runAs ? { uid: this.limits.runAs.uid, gid: this.limits.runAs.gid } : {}),
      },
    );
    this.child = child;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let closed = false;
    let safety: NodeJS.Timeout | undefined;
    child.stdout?.on('data', (d: Buffer) => this.onData('STDOUT', d));
    child.stderr?.on('data', (d: Buffer) => this.onData('STDERR', d));
    child.on('error', (err) => {
      // Spawn failure (ENOENT, EACCES...): no exit event follows.
      if (!exit) this.finish({ exitCode: -1, signal: '', error: `AGENT_SPAWN_FAILED: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (this.timer) clearTimeout(this.timer);
      const pid = child.pid;
      // Leftovers in the group (background jobs) die with the task; they would
      // otherwise hold the pipes open and keep the attempt from finishing.
      if (pid && !process.platform.startsWith('win') && groupAlive(pid)) {
        this.kill ??= killTree(pid, this.limits.graceMs);
      }
      // A process that escaped the group (setsid) may still hold our pipes.
      safety = setTimeout(() => {
        if (closed) return;
        child.stdout?.destroy();
        child.stderr?.destroy();
        this.onExit(exit!);
      }, this.limits.graceMs + 2_000);
    });
    child.on('close', () => {
      closed = true;
      if (safety) clearTimeout(safety);
      if (exit) this.onExit(exit);
    });
    if (child.pid !== undefined) this.hooks.onSpawn?.(child.pid);
    const timeoutMs = this.assign.timeoutMs;
    if (timeoutMs > 0) {
      this.timer = setTimeout(() => this.stopWith({ kind: 'timeout' }), timeoutMs);
    }
  }

  private onData(stream: 'STDOUT' | 'STDERR', data: Buffer): void {
    if (stream === 'STDOUT') {
      this.output.capture(data);
      if (this.hooks.onProgress) this.scanProgress(data);
    }
    this.output.forward(stream, data);
  }

  private scanProgress(data: Buffer): void {
    const { updates, tail } = parseProgressLines(this.progressTail, data);
    this.progressTail = tail;
    for (const u of updates) this.hooks.onProgress?.(u);
  }

  private note(text: string): void {
    this.hooks.onNote?.(text);
  }

  private stopWith(cause: StopCause): void {
    if (this.stop) return;
    this.stop = cause;
    if (this.preparing) {
      // Nothing runs yet (inputs still arriving): the attempt ends now.
      this.finish({ exitCode: -1, signal: '', error: '' });
      return;
    }
    const pid = this.child?.pid;
    if (cause.kind === 'timeout') {
      this.note(`timed out after ${this.assign.timeoutMs} ms; killing the process tree`);
    } else {
      this.note(`cancelled${cause.reason ? `: ${cause.reason}` : ''}; killing the process tree`);
    }
    if (pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null) {
      this.kill = killTree(pid, this.limits.graceMs);
    } else if (pid !== undefined && groupAlive(pid)) {
      this.kill ??= killTree(pid, this.limits.graceMs);
    }
  }

  cancel(reason = ''): void {
    this.stopWith({ kind: 'cancel', reason });
  }

  hurry(): void {
    this.kill?.hurry();
  }

  private onExit(exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    const end = { exitCode: exit.code ?? -1, signal: exit.signal ?? '', error: '' };
    // The Result is only final once the whole tree is gone.
    if (this.kill) void this.kill.done.then(() => this.finish(end));
    else this.finish(end);
  }

  private finished = false;

  private finish(end: { exitCode: number; signal: string; error: string }): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    let outcome: ResultOutcome;
    let error = end.error;
    let outputs: Record<string, string> = {};
    if (this.stop?.kind === 'cancel') {
      outcome = 'CANCELLED';
      error ||= this.stop.reason ? `cancelled: ${this.stop.reason}` : 'cancelled';
    } else if (this.stop?.kind === 'timeout') {
      outcome = 'TIMED_OUT';
      error ||= `timed out after ${this.assign.timeoutMs} ms`;
    } else if (error === '' && end.exitCode === 0) {
      const stdout = this.output.takeStdout();
      const extraction = extractOutputs(this.assign.outputs ?? [], {
        stdout: trimTrailingNewline(stdout.text),
        stdoutTruncated: stdout.truncated,
        cwd: this.cwd,
        maxBytes: this.limits.maxCapture,
      });
      if (extraction.ok) {
        outcome = 'SUCCEEDED';
        outputs = extraction.outputs;
      } else {
        outcome = 'FAILED';
        error = `AGENT_OUTPUT_FAILED: ${extraction.error}`;
      }
    } else {
      outcome = 'FAILED';
      if (error === '') error = end.signal ? `killed by ${end.signal}` : `exit code ${end.exitCode}`;
    }
    this.output.takeStdout(); // release what a failed attempt captured
    const result: Result = {
      ...this.ref,
      outcome,
      exitCode: end.signal ? -1 : end.exitCode,
      signal: end.signal,
      outputs,
      error,
      startedAtMs: this.startedAtMs,
      endedAtMs: Date.now(),
      stdoutBytes: this.output.bytes.STDOUT,
      stderrBytes: this.output.bytes.STDERR,
    };
    const done = (r: Result): void => {
      if (this.ownsCwd) rmSync(this.base, { recursive: true, force: true });
      this.resolve(r);
    };
    if (outcome !== 'SUCCEEDED' || !this.hooks.finalize) {
      done(result);
      return;
    }
    this.hooks.finalize(result, this.cwd).then(done, (err: unknown) =>
      done({ ...result, outcome: 'FAILED', error: (err as Error).message }),
    );
  }
}
