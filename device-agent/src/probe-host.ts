// The world the capability probe looks at: env, os module figures, files
// (sysfs, /etc, /proc, /dev) and a few helper commands. Injectable, so tests
// hand it a fake sysfs tree (`root`) and fake nvidia-smi/tegrastats on PATH.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ProbeHost {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  arch: string;
  cpus: number;
  totalMemBytes: number;
  hostname: string;
  /** Kernel release (os.release()). */
  osRelease: string;
  exists(p: string): boolean;
  /** Is this helper command on $PATH? (Looked up on the real filesystem, never under `root`.) */
  which(binary: string): boolean;
  listDir(p: string): string[];
  /** File text, or undefined when it cannot be read. */
  readFile(p: string): string | undefined;
  /** Filesystem size of the one holding `p`, or undefined. */
  statfs(p: string): { totalBytes: number; freeBytes: number } | undefined;
  /**
   * Runs a helper command (nvidia-smi, tegrastats, termux-battery-status)
   * without a shell; resolves with its stdout, or undefined when it is
   * missing, fails or outlives `timeoutMs` (then it is killed). `firstLine`:
   * resolve (and kill it) as soon as one whole line arrived.
   */
  run(cmd: string, args: string[], timeoutMs: number, opts?: { firstLine?: boolean }): Promise<string | undefined>;
}

/**
 * The real machine. `root` prefixes the absolute paths the probe reads
 * (/sys, /etc, /proc, /dev): '/' normally, a fake tree in tests.
 */
export function realProbeHost(root = '/', env: NodeJS.ProcessEnv = process.env): ProbeHost {
  const at = (p: string): string => (root === '/' || !path.isAbsolute(p) ? p : path.join(root, p));
  return {
    env,
    platform: process.platform,
    arch: process.arch,
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    totalMemBytes: os.totalmem(),
    hostname: os.hostname(),
    osRelease: os.release(),
    exists: (p) => existsSync(at(p)),
    which: (binary) => onPath({ env, platform: process.platform, exists: existsSync }, binary),
    listDir: (p) => {
      try {
        return readdirSync(at(p));
      } catch {
        return [];
      }
    },
    readFile: (p) => {
      try {
        return readFileSync(at(p), 'utf8');
      } catch {
        return undefined;
      }
    },
    statfs: (p) => {
      // statfsSync: Node 18.15+; older 18.x simply reports no disk figures.
      if (typeof statfsSync !== 'function') return undefined;
      try {
        const s = statfsSync(p);
        return { totalBytes: s.blocks * s.bsize, freeBytes: s.bavail * s.bsize };
      } catch {
        return undefined;
      }
    },
    run: (cmd, args, timeoutMs, opts) =>
      new Promise((resolve) => {
        let out = '';
        let done = false;
        const finish = (value: string | undefined): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          resolve(value);
        };
        const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true });
        const timer = setTimeout(() => finish(opts?.firstLine && out.includes('\n') ? out : undefined), timeoutMs);
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (d: string) => {
          if (out.length < 1 << 20) out += d;
          // tegrastats prints forever: one line is all we need.
          if (opts?.firstLine && out.includes('\n')) finish(out);
        });
        child.once('error', () => finish(undefined));
        child.once('close', (code) => finish(code === 0 ? out : undefined));
      }),
  };
}

/** Is `binary` an existing file in one of $PATH's directories? */
export function onPath(host: Pick<ProbeHost, 'env' | 'platform' | 'exists'>, binary: string): boolean {
  const dirs = (host.env.PATH ?? '').split(host.platform === 'win32' ? ';' : ':');
  const names = host.platform === 'win32' ? [`${binary}.exe`] : [binary];
  return dirs.some((d) => d !== '' && names.some((n) => host.exists(path.join(d, n))));
}
