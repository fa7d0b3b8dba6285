// The per-attempt working directory and environment every executor that
// starts a process gives it: the (scrubbed) base env, the spec's env, the
// resolved inputs (as env vars and files) and the attempt's identity.
import { existsSync, lchownSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Assign, TaskRef } from '@orrery/protocol/client';
import { isInside } from '../task-outputs.js';
import type { RunAs } from './types.js';

/** Inputs longer than this go only to files: Linux refuses env strings over 128 KiB. */
const MAX_ENV_INPUT_BYTES = 64 * 1024;

/** ORRERY_INPUT_<NAME>: upper-case, anything outside [A-Z0-9_] becomes '_'. */
export function inputEnvName(name: string): string {
  return `ORRERY_INPUT_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

export function safeSegment(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return cleaned === '' ? '_' : cleaned.slice(0, 100);
}

/** <workRoot>/<constellation>/<task>/<attempt>: the attempt's own directory. */
export function defaultWorkDir(workRoot: string, ref: TaskRef): string {
  return path.join(workRoot, safeSegment(ref.constellationId), safeSegment(ref.taskId), String(ref.attempt));
}

/** Where input files go, under the attempt's base dir. */
export function inputsDir(base: string): string {
  return path.join(base, '.orrery', 'inputs');
}

/**
 * Creates `dir` (and parents) and writes the attempt's input files, still
 * owned by the agent: artifact inputs are placed too before giveWorkDir hands
 * it to the task's account, so no process of that account can plant links in
 * it first. With runAs, `dir` (the task's cwd) must stay inside `base`: the
 * agent never hands over, or reads outputs from, a directory elsewhere.
 */
export function makeWorkDir(
  dir: string,
  base: string,
  runAs: RunAs | undefined,
  inputs: Record<string, string> | undefined = undefined,
): void {
  if (runAs && !isInside(base, dir)) {
    throw new Error(
      `AGENT_CWD_OUTSIDE_WORK_DIR: cwd ${dir} is outside the attempt's work dir; with runAs a task's cwd must be relative, without '..'`,
    );
  }
  mkdirSync(dir, { recursive: true });
  const entries = Object.entries(inputs ?? {});
  if (entries.length === 0) return;
  const idir = inputsDir(base);
  // Not recursive: a fresh attempt has neither, and an existing one is not trusted.
  mkdirSync(path.dirname(idir));
  mkdirSync(idir);
  for (const [name, value] of entries) writeFileSync(path.join(idir, safeSegment(name)), value, { flag: 'wx' });
}

/**
 * With runAs, the attempt's own directories (from `base` down) and its input
 * files go to that account so the task can write there (lchown: nothing followed).
 */
export function giveWorkDir(dir: string, base: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  const idir = inputsDir(base);
  if (existsSync(idir)) {
    for (const p of [path.dirname(idir), idir, ...readdirSync(idir).map((f) => path.join(idir, f))]) {
      lchownSync(p, runAs.uid, runAs.gid);
    }
  }
  for (let d = dir; d.startsWith(base); d = path.dirname(d)) {
    lchownSync(d, runAs.uid, runAs.gid);
    if (d === base) break;
  }
}

export interface AttemptEnvOptions {
  baseEnv: NodeJS.ProcessEnv;
  cwd: string;
  /** Where the inputs dir goes (the attempt's base dir). */
  base: string;
  runAs?: RunAs;
  /** Told about inputs that only went to files. */
  note(text: string): void;
}

export function buildAttemptEnv(assign: Assign, opts: AttemptEnvOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...opts.baseEnv, ...assign.executor.env };
  if (opts.runAs) {
    if (opts.runAs.user) env.USER = env.LOGNAME = opts.runAs.user;
    if (opts.runAs.home) env.HOME = opts.runAs.home;
  }
  const inputs = Object.entries(assign.inputs ?? {});
  if (inputs.length > 0) {
    // Inputs also went to files (makeWorkDir), so values too large for the environment still arrive.
    env.ORRERY_INPUTS_DIR = inputsDir(opts.base);
    for (const [name, value] of inputs) {
      if (Buffer.byteLength(value) <= MAX_ENV_INPUT_BYTES) env[inputEnvName(name)] = value;
      else opts.note(`input '${name}' is too large for the environment; read it from $ORRERY_INPUTS_DIR`);
    }
  }
  env.ORRERY_CONSTELLATION_ID = assign.constellationId;
  env.ORRERY_TASK_ID = assign.taskId;
  env.ORRERY_ATTEMPT = String(assign.attempt);
  env.ORRERY_WORK_DIR = opts.cwd;
  return env;
}
