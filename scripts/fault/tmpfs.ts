// A small tmpfs to put a data dir on, so the disk can really fill up. Needs
// the right to mount (root, or CAP_SYS_ADMIN); probed once, without side
// effects beyond a mount that is removed at once.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let probed: { ok: boolean; why?: string } | undefined;

/** Whether `mount -t tmpfs` works here; `why` says why not. */
export function tmpfsSupport(): { ok: boolean; why?: string } {
  if (probed) return probed;
  if (process.platform !== 'linux') {
    probed = {
      ok: false,
      why: `tmpfs mounts need Linux (this is ${process.platform})`,
    };
    return probed;
  }
  const dir = mkdtempSync(join(tmpdir(), 'orrery-tmpfs-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], {
      stdio: 'pipe',
    });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    probed = { ok: true };
  } catch (err) {
    const text = String((err as { stderr?: Buffer }).stderr ?? err).trim();
    probed = {
      ok: false,
      why: `cannot mount a tmpfs here (${text.split('\n')[0]}); run as root or with CAP_SYS_ADMIN`,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return probed;
}

export interface Tmpfs {
  dir: string;
  /** Writes a file until the filesystem is full; returns the bytes written. */
  fill(): number;
  /** Deletes the filler. */
  free(): void;
  unmount(): void;
}

export function mountTmpfs(sizeMb: number): Tmpfs {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  const filler = join(dir, 'filler');
  return {
    dir,
    fill() {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0x78);
      let written = 0;
      try {
        for (let i = 0; i < 1_000_000; i++) written += writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        // Also the last partial block.
        try {
          for (let i = 0; i < 64; i++) written += writeSync(fd, chunk.subarray(0, 1024));
        } catch {
          // full
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
