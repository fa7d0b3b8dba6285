// Planner audit log retention against a real SQLite file: old calls go, the
// newest stay, calls a pending proposal points at stay, and one step never
// deletes more than its batch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PlannerRecords, type Proposal } from '../src/replan/planner-records.js';
import { PlannerCallRetention } from '../src/replan/planner-retention.js';
import { openSqliteStore, type SqliteStore } from '../src/store/index.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 25);

let dataDir: string;
let store: SqliteStore;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-planner-retention-'));
  store = openSqliteStore({ dataDir });
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Inserts `n` calls, the first `ageDaysOf(i)` days before NOW; returns their ids in insertion order. */
function insertCalls(records: PlannerRecords, n: number, ageDaysOf: (i: number) => number): number[] {
  const ids: number[] = [];
  store.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      ids.push(
        records.recordCall({
          at: NOW - ageDaysOf(i) * DAY,
          kind: 'replan',
          planner: 'builtin',
          constellationId: 'c1',
          requestedBy: 'test',
          prompt: `prompt ${i}`,
          response: `response ${i}`,
          outcome: 'ok',
          durationMs: 1,
        }),
      );
    }
  })();
  return ids;
}

function proposal(id: string, callId: number): Proposal {
  return {
    id,
    constellationId: 'c1',
    createdAt: NOW,
    revision: 1,
    trigger: 'request',
    planner: 'builtin',
    comment: 'retry elsewhere',
    operations: [],
    status: 'pending',
    callId,
  };
}

const remainingIds = (): number[] =>
  (store.db.prepare('SELECT id FROM planner_calls ORDER BY id').all() as { id: number }[]).map((r) => r.id);

describe('planner audit log retention', () => {
  it('keeps the newest N, drops the rest oldest first, in steps of at most batchSize', async () => {
    const retention = new PlannerCallRetention(
      store.db,
      { maxCalls: 100, maxAgeMs: 0, batchSize: 150 },
      undefined,
      () => NOW,
    );
    const records = new PlannerRecords(store.db);
    const ids = insertCalls(records, 1000, () => 0);

    const first = retention.pruneStep();
    expect(first).toBe(150);
    // The oldest went first.
    expect(remainingIds()[0]).toBe(ids[150]);

    const rest = await retention.runToCompletion();
    expect(first + rest).toBe(900);
    expect(remainingIds()).toEqual(ids.slice(900));
    // Nothing left to do: a further step deletes nothing.
    expect(retention.pruneStep()).toBe(0);
  });

  it('drops calls older than the age limit and keeps younger ones', () => {
    const retention = new PlannerCallRetention(
      store.db,
      { maxCalls: 0, maxAgeMs: 30 * DAY, batchSize: 1000 },
      undefined,
      () => NOW,
    );
    const records = new PlannerRecords(store.db);
    // 40 calls 60 days old, then 10 calls 1 day old.
    const ids = insertCalls(records, 50, (i) => (i < 40 ? 60 : 1));
    expect(retention.pruneStep()).toBe(40);
    expect(remainingIds()).toEqual(ids.slice(40));
  });

  it('never prunes a call that a pending proposal points at; decided ones may go', async () => {
    const retention = new PlannerCallRetention(
      store.db,
      { maxCalls: 5, maxAgeMs: 30 * DAY, batchSize: 7 },
      undefined,
      () => NOW,
    );
    const records = new PlannerRecords(store.db);
    const ids = insertCalls(records, 60, (i) => (i < 30 ? 90 : 0));
    const pendingOld = ids[3] as number;
    const pendingMiddle = ids[40] as number;
    const decided = ids[4] as number;
    records.addProposal(proposal('p-old', pendingOld));
    records.addProposal(proposal('p-middle', pendingMiddle));
    records.addProposal(proposal('p-decided', decided));
    expect(records.decideProposal('p-decided', { status: 'rejected', decidedAt: NOW, decidedBy: 'test' })).toBe(true);

    // Each step stays within its batch even though the backlog is much larger.
    let total = 0;
    for (;;) {
      const n = retention.pruneStep();
      expect(n).toBeLessThanOrEqual(7);
      total += n;
      if (n === 0) break;
    }
    expect(total).toBe(53);
    expect(remainingIds()).toEqual([pendingOld, pendingMiddle, ...ids.slice(55)]);
    expect(records.getProposal('p-old')?.callId).toBe(pendingOld);

    // Once decided, the proposal no longer protects its call.
    records.decideProposal('p-old', { status: 'applied', decidedAt: NOW, decidedBy: 'test', appliedRevision: 2 });
    expect(await retention.runToCompletion()).toBe(1);
    expect(remainingIds()).toEqual([pendingMiddle, ...ids.slice(55)]);
  });

  it('prunes after an insert in bounded background steps, at most once per interval', async () => {
    let now = NOW;
    const retention = new PlannerCallRetention(
      store.db,
      { maxCalls: 10, maxAgeMs: 0, batchSize: 25, minIntervalMs: 60_000 },
      undefined,
      () => now,
    );
    const records = new PlannerRecords(store.db, retention);
    const backlog = new PlannerRecords(store.db); // fills without triggering
    insertCalls(backlog, 200, () => 0);

    insertCalls(records, 1, () => 0);
    // Nothing is deleted on the insert's own turn: pruning runs off the hot path.
    expect(remainingIds()).toHaveLength(201);
    await new Promise<void>((r) => setImmediate(r));
    // One macrotask, one bounded step.
    expect(remainingIds()).toHaveLength(201 - 25);
    for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
    expect(remainingIds()).toHaveLength(10);

    // A second insert within the interval does not start another run.
    insertCalls(records, 5, () => 0);
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(remainingIds()).toHaveLength(15);
    // After the interval it does.
    now += 60_000;
    insertCalls(records, 1, () => 0);
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    expect(remainingIds()).toHaveLength(10);
    retention.close();
  });
});
