// Results of recently finished attempts, bounded and oldest-first evicted, so
// that a replayed Assign for a finished attempt gets its Result again instead
// of a second run. Results not yet acknowledged also live in the outbox.
import type { Result, TaskRef } from '@orrery/protocol/client';
import type { Outbox } from './outbox.js';
import { attemptKey, resultKey } from './task-keys.js';

export class FinishedAttempts {
  private readonly results = new Map<string, Result>();

  constructor(
    private readonly outbox: Outbox,
    private readonly max = 1024,
  ) {}

  remember(result: Result): void {
    const key = attemptKey(result);
    this.results.delete(key);
    this.results.set(key, result);
    while (this.results.size > this.max) {
      const oldest = this.results.keys().next().value;
      if (oldest === undefined) break;
      this.results.delete(oldest);
    }
  }

  get(ref: TaskRef): Result | undefined {
    const known = this.results.get(attemptKey(ref));
    if (known) return known;
    const body = this.outbox.get(resultKey(ref));
    return body?.type === 'result' ? body.value : undefined;
  }
}
