// Journal of attempts in progress (one small file each under running/). An
// entry exists from just before the process is spawned until its Result is in
// the outbox; an entry found at start-up therefore means the agent died while
// the attempt ran, and it is reported once as INTERRUPTED.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TaskRef } from '@orrery/protocol/client';
import { ensureDir, fileNameForKey, isTempFile, removeFileDurable, writeFileDurable } from './durable-file.js';
import { attemptKey } from './task-keys.js';

export interface JournalEntry extends TaskRef {
  startedAtMs: number;
  /** Process group leader, once spawned (0 before). */
  pid: number;
  /** Kernel start time of pid (Linux /proc), to avoid killing a recycled pid. */
  pidStartTicks?: string;
}

export class AttemptJournal {
  constructor(readonly dir: string) {
    ensureDir(dir);
  }

  private fileOf(ref: TaskRef): string {
    return path.join(this.dir, fileNameForKey(attemptKey(ref)));
  }

  record(entry: JournalEntry): void {
    const { constellationId, taskId, attempt, startedAtMs, pid, pidStartTicks } = entry;
    writeFileDurable(
      this.fileOf(entry),
      JSON.stringify({ constellationId, taskId, attempt, startedAtMs, pid, pidStartTicks }),
    );
  }

  remove(ref: TaskRef): void {
    removeFileDurable(this.fileOf(ref));
  }

  list(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const name of readdirSync(this.dir)) {
      const file = path.join(this.dir, name);
      if (isTempFile(name)) {
        rmSync(file, { force: true });
        continue;
      }
      try {
        const e = JSON.parse(readFileSync(file, 'utf8')) as JournalEntry;
        if (typeof e.taskId === 'string' && typeof e.attempt === 'number') out.push(e);
      } catch {
        // not ours
      }
    }
    return out;
  }
}

/** Linux: field 22 of /proc/<pid>/stat (start time in clock ticks); undefined elsewhere. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces; fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}
