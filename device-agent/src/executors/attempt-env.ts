// The per-attempt working directory and environment every executor that
// starts a process gives it: the (scrubbed) base env, the spec's env, the
// resolved inputs (as env vars and files) and the attempt's identity.
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Assign, TaskRef } from '@orrery/protocol/client';
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

/**
 * Creates `dir` (and parents), still owned by the agent: artifact inputs are
 * placed before giveWorkDir hands it to the task's account, so no process of
 * that account can plant links in it first.
 */
export function makeWorkDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** With runAs, the attempt's own directories (from `base` down) go to that account so the task can write there. */
export function giveWorkDir(dir: string, base: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  for (let d = dir; d.startsWith(base); d = path.dirname(d)) {
    chownSync(d, runAs.uid, runAs.gid);
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
    // Inputs also go to files, so values too large for the environment still arrive.
    const dir = path.join(opts.base, '.orrery', 'inputs');
    mkdirSync(dir, { recursive: true });
    if (opts.runAs) {
      chownSync(path.dirname(dir), opts.runAs.uid, opts.runAs.gid);
      chownSync(dir, opts.runAs.uid, opts.runAs.gid);
    }
    env.ORRERY_INPUTS_DIR = dir;
    for (const [name, value] of inputs) {
      const file = path.join(dir, safeSegment(name));
      writeFileSync(file, value);
      if (opts.runAs) chownSync(file, opts.runAs.uid, opts.runAs.gid);
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
