// The executor interface: one implementation per `executor.kind` of an
// Assign (shell, http, mcp, adb). The agent looks the kind up in the
// registry, asks the executor whether the Assign may run here (arguments
// and the device's allowlist), and then runs it; every kind reports through
// the same hooks and ends in one Result.
import type { Assign, Result, TaskRef } from '@orrery/protocol/client';
import type { ProgressUpdate } from '../progress-marker.js';

export interface AttemptHooks {
  /** A slice of stdout/stderr; offset is the byte offset within that stream. */
  onOutput?(stream: 'STDOUT' | 'STDERR', data: Uint8Array, offset: number): void;
  /** A note from the executor for the SYSTEM stream (truncation, kills). */
  onNote?(text: string): void;
  onProgress?(update: ProgressUpdate): void;
  /** A process of the attempt is running with this pid (= its process group id on POSIX). */
  onSpawn?(pid: number): void;
  /** Runs in the fresh work dir before the work starts (artifact inputs); a throw fails the attempt. */
  prepare?(cwd: string): Promise<void>;
  /** Sees a successful Result before the work dir is removed (artifact outputs) and may change it. */
  finalize?(result: Result, cwd: string): Promise<Result>;
}

export interface RunningAttempt {
  readonly ref: TaskRef;
  readonly cwd: string;
  pid(): number | undefined;
  readonly done: Promise<Result>;
  cancel(reason?: string): void;
  /** Skip the SIGTERM grace period of a kill in progress. */
  hurry(): void;
}

/** Why an Assign cannot run here; sent as a Reject (code + reason). */
export interface AssignProblem {
  code: string;
  message: string;
}

export interface TaskExecutor {
  readonly kind: string;
  /** Checked before Accept: the arguments parse and the device's allowlist lets them through. */
  check(assign: Assign): AssignProblem | undefined;
  run(assign: Assign, hooks?: AttemptHooks): RunningAttempt;
  /** One line for the agent's log ("GET https://...", the command line...). */
  describe(assign: Assign): string;
}

/** Run tasks as another account (POSIX; the agent needs the right to switch, usually root). */
export interface RunAs {
  uid: number;
  gid: number;
  /** Account name and home, when known: become USER/LOGNAME/HOME of the task. */
  user?: string;
  home?: string;
}

/** What every executor shares: where attempts work, limits, the environment tasks start from. */
export interface ExecutorSettings {
  /** Per-attempt work dirs are created under it. */
  workRoot: string;
  /** Output bytes (stdout+stderr) forwarded per attempt; beyond it output is dropped. */
  maxForwardBytes: number;
  /** Bytes of stdout (response body, tool text, output file) kept for outputs. */
  maxCaptureBytes: number;
  /** Between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** Environment tasks inherit (already scrubbed of the agent's secrets). */
  baseEnv: NodeJS.ProcessEnv;
  /** Keep default work dirs after the attempt (debugging). */
  keepWorkDirs: boolean;
  runAs?: RunAs;
}
