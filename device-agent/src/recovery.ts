// Start-up recovery: every attempt still in the journal ran when the previous
// agent process died. Its orphaned process group (if still alive and really
// ours) is killed, and an INTERRUPTED Result is put in the outbox. The outbox
// put comes before the journal removal, and a journal entry whose Result is
// already in the outbox is simply dropped, so each attempt is reported once.
import type { Body, Result } from '@orrery/protocol/client';
import type { Logger } from 'pino';
import { type AttemptJournal, processStartTicks } from './attempt-journal.js';
import type { Outbox } from './outbox.js';
import { groupAlive } from './process-tree.js';
import { attemptKey, resultKey } from './task-keys.js';

export function interruptedResult(
  ref: { constellationId: string; taskId: string; attempt: number },
  startedAtMs: number,
  error: string,
): Result {
  return {
    constellationId: ref.constellationId,
    taskId: ref.taskId,
    attempt: ref.attempt,
    outcome: 'INTERRUPTED',
    exitCode: -1,
    signal: '',
    outputs: {},
    error,
    startedAtMs,
    endedAtMs: Date.now(),
    stdoutBytes: 0,
    stderrBytes: 0,
  };
}

/** Returns the attempts reported as interrupted. */
export function recoverInterrupted(journal: AttemptJournal, outbox: Outbox, logger: Logger): string[] {
  const reported: string[] = [];
  for (const entry of journal.list()) {
    const key = resultKey(entry);
    if (entry.pid > 0 && process.platform !== 'win32') {
      // Only kill the group if its leader is the very process we spawned (pid reuse).
      const ticks = processStartTicks(entry.pid);
      if (ticks !== undefined && ticks === entry.pidStartTicks && groupAlive(entry.pid)) {
        try {
          process.kill(-entry.pid, 'SIGKILL');
          logger.warn({ attempt: attemptKey(entry), pgid: entry.pid }, 'killed orphaned task process group');
        } catch {
          // gone meanwhile
        }
      }
    }
    if (!outbox.has(key)) {
      const body: Body = {
        type: 'result',
        value: interruptedResult(entry, entry.startedAtMs, 'the device agent restarted while the task ran'),
      };
      outbox.put(key, body);
      reported.push(attemptKey(entry));
      logger.warn({ attempt: attemptKey(entry) }, 'attempt interrupted by an agent restart');
    }
    journal.remove(entry);
  }
  return reported;
}
