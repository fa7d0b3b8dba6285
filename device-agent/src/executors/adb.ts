// The `adb` executor: works on an Android device attached to the agent's
// host through the `adb` binary: push files, run one shell command, pull
// files back, in that order, all with `adb -s <serial>`. Without a serial the
// only attached device is used. The shell command's stdout is the attempt's
// stdout; pulled files land in the work dir, where `file` outputs read them.
import { lchownSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Assign } from '@orrery/protocol/client';
import { type CommandPolicy, notAllowed } from '../safety/policy.js';
import { isConfinedRelative, isInside } from '../task-outputs.js';
import { type Args, ArgsError, onlyKeys, optStr, parseArgsJson, readArgs, str } from './args.js';
import { type AttemptIo, startAttempt, type WorkEnd } from './attempt-runner.js';
import { spawnInGroup } from './group-process.js';
import type { AssignProblem, AttemptHooks, ExecutorSettings, RunningAttempt, TaskExecutor } from './types.js';

export interface FileTransfer {
  local: string;
  remote: string;
}

export interface AdbArgs {
  serial?: string;
  push: FileTransfer[];
  shell?: string;
  pull: FileTransfer[];
}

function transfers(args: Args, key: 'push' | 'pull'): FileTransfer[] {
  const v = args[key];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((item, i) => {
    const where = `args.${key}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new ArgsError(`${where} must be { local, remote }`);
    onlyKeys(item as Args, ['local', 'remote'], where);
    const local = str(item as Args, 'local', where);
    // The agent may be root: local files are the work dir's, never the host's.
    if (!isConfinedRelative(local))
      throw new ArgsError(`${where}.local must be a path relative to the work dir, without '..' (got ${local})`);
    return { local, remote: str(item as Args, 'remote', where) };
  });
}

export function parseAdbArgs(args: Args): AdbArgs {
  onlyKeys(args, ['serial', 'push', 'shell', 'pull']);
  const serial = optStr(args, 'serial');
  const shell = optStr(args, 'shell');
  const parsed: AdbArgs = {
    push: transfers(args, 'push'),
    pull: transfers(args, 'pull'),
    ...(serial ? { serial } : {}),
    ...(shell ? { shell } : {}),
  };
  if (parsed.push.length === 0 && parsed.pull.length === 0 && parsed.shell === undefined) {
    throw new ArgsError('give at least one of args.push, args.shell, args.pull');
  }
  return parsed;
}

/** Each operation as the text allow.adb patterns are matched against. */
export function adbOperations(a: AdbArgs): string[] {
  return [
    ...a.push.map((t) => `push ${t.local} ${t.remote}`),
    ...(a.shell !== undefined ? [`shell ${a.shell}`] : []),
    ...a.pull.map((t) => `pull ${t.remote} ${t.local}`),
  ];
}

/** `adb devices` output: serial -> state (device, offline, unauthorized...). */
export function parseAdbDevices(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\S+)/.exec(line.trim());
    if (!m || line.startsWith('List of devices') || line.startsWith('*')) continue;
    out.set(m[1]!, m[2]!);
  }
  return out;
}

export class AdbExecutor implements TaskExecutor {
  readonly kind = 'adb';

  constructor(
    private readonly settings: ExecutorSettings,
    readonly adbPath: string,
    private readonly allow?: CommandPolicy,
  ) {}

  check(assign: Assign): AssignProblem | undefined {
    const read = readArgs(assign, parseAdbArgs);
    if ('problem' in read) return read.problem;
    const args = read.args;
    if (this.allow) {
      const refused = adbOperations(args).find((op) => !this.allow!.matches(op));
      if (refused !== undefined)
        return notAllowed(this.allow, `adb operation ${JSON.stringify(refused.slice(0, 200))}`);
    }
    return undefined;
  }

  describe(assign: Assign): string {
    try {
      return `adb ${adbOperations(parseAdbArgs(parseArgsJson(assign)))
        .join('; ')
        .slice(0, 200)}`;
    } catch {
      return 'adb (bad args)';
    }
  }

  run(assign: Assign, hooks: AttemptHooks = {}): RunningAttempt {
    return startAttempt(this.settings, assign, hooks, (io) => this.work(io, parseAdbArgs(parseArgsJson(assign))));
  }

  private async work(io: AttemptIo, args: AdbArgs): Promise<WorkEnd> {
    const picked = await this.pickSerial(io, args.serial);
    if (!('serial' in picked)) return picked;
    const serial = picked.serial;
    for (const t of args.push) {
      let local: string;
      try {
        local = pushSource(io.cwd, t.local);
      } catch (err) {
        return { error: `ADB_PUSH_FAILED: ${t.local} -> ${t.remote}: ${(err as Error).message}` };
      }
      const end = await this.adb(io, ['-s', serial, 'push', local, t.remote], false);
      if (end.error) return { ...end, error: `ADB_PUSH_FAILED: ${t.local} -> ${t.remote}: ${end.error}` };
    }
    if (args.shell !== undefined) {
      const end = await this.adb(io, ['-s', serial, 'shell', args.shell], true);
      if (end.error) return end;
    }
    for (const t of args.pull) {
      let local: string;
      try {
        local = pullTarget(io.cwd, t.local, io.settings.runAs);
      } catch (err) {
        return { error: `ADB_PULL_FAILED: ${t.remote} -> ${t.local}: ${(err as Error).message}` };
      }
      const end = await this.adb(io, ['-s', serial, 'pull', t.remote, local], false);
      if (end.error) return { ...end, error: `ADB_PULL_FAILED: ${t.remote} -> ${t.local}: ${end.error}` };
    }
    return {};
  }

  /** The given serial if attached and ready; else the only attached device. */
  private async pickSerial(
    io: AttemptIo,
    wanted: string | undefined,
  ): Promise<{ serial: string } | (WorkEnd & { error: string })> {
    let listing = '';
    const end = await this.adb(io, ['devices'], false, (d) => {
      listing += d.toString('utf8');
    });
    if (end.error) return { ...end, error: `ADB_FAILED: adb devices: ${end.error}` };
    const devices = parseAdbDevices(listing);
    if (wanted !== undefined) {
      const state = devices.get(wanted);
      if (state === undefined) {
        return {
          error: `ADB_NO_DEVICE: device ${wanted} is not attached (attached: ${[...devices.keys()].join(', ') || 'none'})`,
        };
      }
      if (state !== 'device') return { error: `ADB_DEVICE_NOT_READY: device ${wanted} is ${state}` };
      return { serial: wanted };
    }
    const ready = [...devices].filter(([, s]) => s === 'device').map(([serial]) => serial);
    if (ready.length === 0)
      return { error: 'ADB_NO_DEVICE: no Android device is attached and ready (adb devices lists none)' };
    if (ready.length > 1)
      return { error: `ADB_SERIAL_REQUIRED: several devices are attached (${ready.join(', ')}); set args.serial` };
    return { serial: ready[0]! };
  }

  /** Runs adb once; output goes to the log (`capture`: also the attempt's stdout) or to `sink`. */
  private async adb(io: AttemptIo, argv: string[], capture: boolean, sink?: (d: Buffer) => void): Promise<WorkEnd> {
    if (io.signal.aborted) return {};
    io.note(`$ adb ${argv.join(' ')}`);
    // As the task's account (runAs), with the agent's scrubbed env: the spec's env
    // (LD_PRELOAD...) is for the task's own processes, not for a binary the agent runs.
    const proc = spawnInGroup(io, this.adbPath, argv, { cwd: io.cwd, env: adbEnv(io) });
    proc.child.stdout?.on('data', (d: Buffer) => (sink ? sink(d) : io.stdout(d, capture)));
    let stderrTail = '';
    proc.child.stderr?.on('data', (d: Buffer) => {
      io.stderr(d);
      stderrTail = (stderrTail + d.toString('utf8')).slice(-400);
    });
    const end = await proc.closed;
    if (end.error) return { error: `AGENT_SPAWN_FAILED: ${this.adbPath}: ${end.error}`, exitCode: -1 };
    if (end.code === 0) return {};
    const how = end.signal ? `killed by ${end.signal}` : `exit code ${end.code}`;
    // adb's own complaint (for push/pull/devices) says more than the exit code.
    const said = sink || !capture ? lastLine(stderrTail) : '';
    return { error: said ? `${how}: ${said}` : how, exitCode: end.code ?? -1 };
  }
}

/** The agent's scrubbed env, with the task account's identity when runAs is set. */
function adbEnv(io: AttemptIo): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...io.settings.baseEnv };
  const runAs = io.settings.runAs;
  if (runAs?.user) env.USER = env.LOGNAME = runAs.user;
  if (runAs?.home) env.HOME = runAs.home;
  return env;
}

/** A file to push: its real path must be inside the work dir (no symlink out). */
function pushSource(cwd: string, rel: string): string {
  const root = realpathSync(cwd);
  let real: string;
  try {
    real = realpathSync(path.resolve(root, rel));
  } catch (err) {
    // adb says what is missing, in its words.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path.resolve(root, rel);
    throw err;
  }
  if (!isInside(root, real)) throw new Error(`${rel} resolves outside the work dir (${real})`);
  return real;
}

/**
 * Where a pulled file goes: missing parent dirs are created one by one (owned
 * by the task's account), and no existing component may be a symlink.
 */
function pullTarget(cwd: string, rel: string, runAs: ExecutorSettings['runAs']): string {
  const root = realpathSync(cwd);
  const parts = path
    .normalize(rel)
    .split(path.sep)
    .filter((p) => p !== '' && p !== '.');
  let cur = root;
  for (const [i, part] of parts.entries()) {
    cur = path.join(cur, part);
    let st: ReturnType<typeof lstatSync> | undefined;
    try {
      st = lstatSync(cur);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st?.isSymbolicLink()) throw new Error(`${rel}: ${path.relative(root, cur)} is a symlink (not followed)`);
    const last = i === parts.length - 1;
    if (!last && !st) {
      mkdirSync(cur);
      if (runAs) lchownSync(cur, runAs.uid, runAs.gid);
    } else if (!last && !st!.isDirectory()) throw new Error(`${rel}: ${path.relative(root, cur)} is not a directory`);
  }
  return cur;
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.at(-1) ?? '';
}
