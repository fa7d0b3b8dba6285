// The life of an attempt for executors that are not a single shell process
// (http, mcp, adb): work dir, timeout and cancel as an AbortSignal, output
// forwarding under the per-attempt cap, stdout capture for outputs, and the
// Result. The executor supplies only the work itself.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Assign, Result, ResultOutcome, TaskRef } from '@orrery/protocol/client';
import type { ProgressUpdate } from '../progress-marker.js';
import { extractOutputs, type OutputValues, trimTrailingNewline } from '../task-outputs.js';
import { buildAttemptEnv, defaultWorkDir, giveWorkDir, makeWorkDir } from './attempt-env.js';
import { OutputBudget } from './output-budget.js';
import type { AttemptHooks, ExecutorSettings, RunningAttempt } from './types.js';

export interface AttemptIo {
  readonly ref: TaskRef;
  readonly assign: Assign;
  readonly cwd: string;
  /** Aborted on cancel and on the task timeout; the work must then settle promptly. */
  readonly signal: AbortSignal;
  readonly settings: ExecutorSettings;
  /** The environment for processes the attempt starts (built on first use). */
  env(): NodeJS.ProcessEnv;
  /** Forwards to the log; `capture` also keeps the bytes as the attempt's stdout (for outputs). */
  stdout(data: Buffer, capture?: boolean): void;
  stderr(data: Buffer): void;
  note(text: string): void;
  progress(update: ProgressUpdate): void;
  /** A process of the attempt started (journalled so a crashed agent can kill it on restart). */
  spawned(pid: number): void;
  /** Called by hurry(): skip a kill's grace period. */
  onHurry(fn: () => void): void;
}

/** How the work ended: `error` empty = success (then outputs are extracted). */
export interface WorkEnd extends OutputValues {
  error?: string;
  exitCode?: number;
}

export type Work = (io: AttemptIo) => Promise<WorkEnd>;

type StopCause = { kind: 'timeout' } | { kind: 'cancel'; reason: string };

export function startAttempt(
  settings: ExecutorSettings,
  assign: Assign,
  hooks: AttemptHooks,
  work: Work,
): RunningAttempt {
  return new RunnerAttempt(settings, assign, hooks, work);
}

class RunnerAttempt implements RunningAttempt, AttemptIo {
  readonly ref: TaskRef;
  readonly cwd: string;
  readonly done: Promise<Result>;
  private readonly base: string;
  private readonly ownsCwd: boolean;
  private readonly abort = new AbortController();
  private readonly startedAtMs = Date.now();
  private stop: StopCause | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastPid: number | undefined;
  private hurryFns: Array<() => void> = [];
  private readonly output: OutputBudget;
  private envCache: NodeJS.ProcessEnv | undefined;

  constructor(
    readonly settings: ExecutorSettings,
    readonly assign: Assign,
    private readonly hooks: AttemptHooks,
    work: Work,
  ) {
    const { constellationId, taskId, attempt } = assign;
    this.ref = { constellationId, taskId, attempt };
    this.output = new OutputBudget(settings.maxForwardBytes, settings.maxCaptureBytes, {
      onOutput: (stream, data, offset) => hooks.onOutput?.(stream, data, offset),
      note: (text) => this.note(text),
    });
    const spec = assign.executor;
    this.base = defaultWorkDir(settings.workRoot, this.ref);
    this.ownsCwd = !(spec.cwd && path.isAbsolute(spec.cwd)) && !settings.keepWorkDirs;
    this.cwd = spec.cwd ? path.resolve(this.base, spec.cwd) : this.base;
    if (assign.timeoutMs > 0) this.timer = setTimeout(() => this.stopWith({ kind: 'timeout' }), assign.timeoutMs);
    this.done = this.run(work);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  private async run(work: Work): Promise<Result> {
    let end: WorkEnd;
    try {
      makeWorkDir(this.cwd, this.base, this.settings.runAs, this.assign.inputs);
    } catch (err) {
      return this.cleanUp(this.finish({ error: `AGENT_EXECUTOR_FAILED: ${(err as Error).message}` }));
    }
    try {
      // Artifact inputs arrive before the work starts.
      await this.hooks.prepare?.(this.cwd);
    } catch (err) {
      return this.cleanUp(this.finish({ error: (err as Error).message }));
    }
    try {
      // Only now, with the inputs in place, does the task's account get the dir.
      giveWorkDir(this.cwd, this.base, this.settings.runAs);
    } catch (err) {
      return this.cleanUp(this.finish({ error: `AGENT_EXECUTOR_FAILED: ${(err as Error).message}` }));
    }
    try {
      end = this.stop ? {} : await work(this);
    } catch (err) {
      end = { error: this.stop ? '' : `AGENT_EXECUTOR_FAILED: ${(err as Error).message}` };
    }
    let result = this.finish(end);
    if (result.outcome === 'SUCCEEDED' && this.hooks.finalize) {
      // Artifact outputs are collected (and uploaded) before the work dir goes.
      result = await this.hooks.finalize(result, this.cwd).catch((err: unknown) => ({
        ...result,
        outcome: 'FAILED' as const,
        exitCode: 1,
        error: (err as Error).message,
      }));
    }
    return this.cleanUp(result);
  }

  private cleanUp(result: Result): Result {
    if (this.ownsCwd) rmSync(this.base, { recursive: true, force: true });
    return result;
  }

  env(): NodeJS.ProcessEnv {
    this.envCache ??= buildAttemptEnv(this.assign, {
      baseEnv: this.settings.baseEnv,
      cwd: this.cwd,
      base: this.base,
      ...(this.settings.runAs ? { runAs: this.settings.runAs } : {}),
      note: (t) => this.note(t),
    });
    return this.envCache;
  }

  pid(): number | undefined {
    return this.lastPid;
  }

  stdout(data: Buffer, capture = true): void {
    if (capture) this.output.capture(data);
    this.output.forward('STDOUT', data);
  }

  stderr(data: Buffer): void {
    this.output.forward('STDERR', data);
  }

  note(text: string): void {
    this.hooks.onNote?.(text);
  }

  progress(update: ProgressUpdate): void {
    this.hooks.onProgress?.(update);
  }

  spawned(pid: number): void {
    this.lastPid = pid;
    this.hooks.onSpawn?.(pid);
  }

  onHurry(fn: () => void): void {
    this.hurryFns.push(fn);
  }

  private stopWith(cause: StopCause): void {
    if (this.stop) return;
    this.stop = cause;
    if (cause.kind === 'timeout') this.note(`timed out after ${this.assign.timeoutMs} ms; stopping`);
    else this.note(`cancelled${cause.reason ? `: ${cause.reason}` : ''}; stopping`);
    this.abort.abort(cause.kind);
  }

  cancel(reason = ''): void {
    this.stopWith({ kind: 'cancel', reason });
  }

  hurry(): void {
    for (const fn of this.hurryFns) fn();
  }

  private finish(end: WorkEnd): Result {
    if (this.timer) clearTimeout(this.timer);
    let outcome: ResultOutcome;
    let error = end.error ?? '';
    let outputs: Record<string, string> = {};
    let exitCode = end.exitCode ?? (error ? 1 : 0);
    if (this.stop?.kind === 'cancel') {
      outcome = 'CANCELLED';
      error = this.stop.reason ? `cancelled: ${this.stop.reason}` : 'cancelled';
      exitCode = -1;
    } else if (this.stop?.kind === 'timeout') {
      outcome = 'TIMED_OUT';
      error = `timed out after ${this.assign.timeoutMs} ms`;
      exitCode = -1;
    } else if (error === '') {
      const stdout = this.output.takeStdout();
      const extraction = extractOutputs(this.assign.outputs ?? [], {
        stdout: trimTrailingNewline(stdout.text),
        stdoutTruncated: stdout.truncated,
        cwd: this.cwd,
        maxBytes: this.settings.maxCaptureBytes,
        kind: this.assign.executor.kind,
        ...(end.status !== undefined ? { status: end.status } : {}),
        ...(end.headers ? { headers: end.headers } : {}),
        ...(end.document ? { document: end.document } : {}),
      });
      if (extraction.ok) {
        outcome = 'SUCCEEDED';
        outputs = extraction.outputs;
      } else {
        outcome = 'FAILED';
        error = `AGENT_OUTPUT_FAILED: ${extraction.error}`;
        exitCode = 1;
      }
    } else {
      outcome = 'FAILED';
    }
    this.output.takeStdout(); // release what a failed attempt captured
    return {
      ...this.ref,
      outcome,
      exitCode,
      signal: '',
      outputs,
      error,
      startedAtMs: this.startedAtMs,
      endedAtMs: Date.now(),
      stdoutBytes: this.output.bytes.STDOUT,
      stderrBytes: this.output.bytes.STDERR,
    };
  }
}
