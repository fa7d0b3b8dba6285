// Retention for the planner audit log (`planner_calls`): keep the newest
// `maxCalls` and those younger than `maxAgeMs`; a call that a pending replan
// proposal points at is always kept (its approval needs the context). Pruning
// deletes at most `batchSize` rows per step and yields to the event loop
// between steps, so a huge backlog never stalls the server for long.
import type { Database, Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import { toStoreError } from '../store/errors.js';

export interface PlannerRetentionPolicy {
  /** Keep at most this many newest calls (0 = no count limit). */
  maxCalls: number;
  /** Drop calls older than this (0 = no age limit). */
  maxAgeMs: number;
  /** Most rows one step deletes. */
  batchSize: number;
  /** Least time between two pruning runs started by inserts. */
  minIntervalMs: number;
}

export const DEFAULT_PLANNER_RETENTION: PlannerRetentionPolicy = {
  maxCalls: 10_000,
  maxAgeMs: 30 * 24 * 60 * 60 * 1000,
  batchSize: 2_000,
  minIntervalMs: 60_000,
};

export class PlannerCallRetention {
  readonly policy: PlannerRetentionPolicy;
  private readonly nthNewest: Statement;
  private readonly deleteBatch: Statement;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private running = false;
  private closed = false;
  private timer: NodeJS.Immediate | undefined;

  constructor(
    db: Database,
    policy: Partial<PlannerRetentionPolicy> = {},
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.policy = { ...DEFAULT_PLANNER_RETENTION, ...policy };
    if (this.policy.batchSize < 1) throw new RangeError('planner retention batchSize must be at least 1');
    // The id of the maxCalls-th newest call: everything below it is over the count limit.
    this.nthNewest = db.prepare('SELECT id FROM planner_calls ORDER BY id DESC LIMIT 1 OFFSET ?');
    // Oldest first by id (the rowid, so the scan is cheap and stops at the batch
    // size); calls referenced by a pending proposal are skipped.
    this.deleteBatch = db.prepare(
      `DELETE FROM planner_calls WHERE id IN (
         SELECT id FROM planner_calls
         WHERE (id < @idCutoff OR at < @atCutoff)
           AND id NOT IN (SELECT call_id FROM replan_proposals WHERE status = 'pending' AND call_id IS NOT NULL)
         ORDER BY id LIMIT @batch)`,
    );
  }

  /** One bounded step: deletes at most `batchSize` rows and returns how many it deleted. */
  pruneStep(): number {
    const { maxCalls, maxAgeMs, batchSize } = this.policy;
    try {
      let idCutoff = 0;
      if (maxCalls > 0) {
        const row = this.nthNewest.get(maxCalls - 1) as { id: number } | undefined;
        idCutoff = row?.id ?? 0;
      }
      // NULL makes `at < @atCutoff` never true: no age limit.
      const atCutoff = maxAgeMs > 0 ? this.now() - maxAgeMs : null;
      if (idCutoff === 0 && atCutoff === null) return 0;
      return this.deleteBatch.run({ idCutoff, atCutoff, batch: batchSize }).changes;
    } catch (err) {
      throw toStoreError(err, 'pruning the planner audit log');
    }
  }

  /** Called after each insert (and at startup): starts a run when the last one is at least `minIntervalMs` old. */
  requestPrune(): void {
    if (this.closed || this.running || this.now() - this.lastRunAt < this.policy.minIntervalMs) return;
    this.lastRunAt = this.now();
    this.running = true;
    this.schedule();
  }

  /** Resolves once nothing is left to prune (tests and shutdown). */
  async runToCompletion(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = this.pruneStep();
      total += n;
      if (n < this.policy.batchSize) return total;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.running = false;
  }

  // Each step runs in its own macrotask, so requests interleave with a long backlog.
  private schedule(): void {
    this.timer = setImmediate(() => {
      this.timer = undefined;
      if (this.closed) return;
      let n = 0;
      try {
        n = this.pruneStep();
      } catch (err) {
        // Pruning is housekeeping: a failure is logged and retried at the next run, never fatal.
        this.logger?.warn({ err }, 'planner audit log pruning failed; retrying after the next planner call');
        this.running = false;
        return;
      }
      if (n > 0) this.logger?.debug({ deleted: n }, 'pruned planner audit log');
      if (n >= this.policy.batchSize) this.schedule();
      else this.running = false;
    });
  }
}
