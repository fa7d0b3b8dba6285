import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NewEvent, type SqliteStore, StoreError, openSqliteStore } from '../src/store/index.js';

let dataDir: string;
let store: SqliteStore;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-journal-'));
  store = openSqliteStore({ dataDir });
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function events(n: number, type = 'task.done', constellationId = 'c1'): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type, constellationId, at: 1000 + i, data: { i } }));
}

function expectStoreError(fn: () => unknown, code: string): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe(code);
    return err as StoreError;
  }
  throw new Error(`expected ${code}`);
}

describe('journal', () => {
  it('assigns dense increasing seqs and reads them back in order', () => {
    expect(store.lastSeq()).toBe(0);
    expect(store.appendEvents(events(3))).toBe(3);
    expect(store.appendEvents([{ type: 'tick', at: 5, data: null }])).toBe(4);
    expect(store.appendEvents([])).toBe(4);
    const all = store.readEvents(0);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(all[0]).toEqual({ seq: 1, type: 'task.done', constellationId: 'c1', at: 1000, data: { i: 0 } });
    expect(all[3]).toEqual({ seq: 4, type: 'tick', at: 5, data: null });
    expect(store.readEvents(2).map((e) => e.seq)).toEqual([3, 4]);
    expect(store.readEvents(0, 2).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('iterates across pages and survives a reopen', () => {
    store.appendEvents(events(25));
    expect([...store.iterateEvents(0, 10)].map((e) => e.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect([...store.iterateEvents(20, 10)].map((e) => e.seq)).toEqual([21, 22, 23, 24, 25]);
    store.close();
    store = openSqliteStore({ dataDir });
    expect(store.lastSeq()).toBe(25);
    expect(store.appendEvents(events(1))).toBe(26);
  });

  it('lists history by constellation and type', () => {
    store.appendEvents([
      { type: 'edit.applied', constellationId: 'a', at: 1, data: { revision: 1 } },
      { type: 'task.done', constellationId: 'a', at: 2, data: {} },
      { type: 'edit.applied', constellationId: 'b', at: 3, data: { revision: 1 } },
      { type: 'edit.applied', constellationId: 'a', at: 4, data: { revision: 2 } },
      { type: 'device.lost', at: 5, data: {} },
    ]);
    const history = store.listEvents({ constellationId: 'a', types: ['edit.applied'] });
    expect(history.map((e) => (e.data as { revision: number }).revision)).toEqual([1, 2]);
    expect(store.listEvents({ constellationId: 'a' }).map((e) => e.seq)).toEqual([1, 2, 4]);
    expect(store.listEvents({ types: ['device.lost', 'task.done'] }).map((e) => e.seq)).toEqual([2, 5]);
    expect(store.listEvents({ constellationId: 'a', afterSeq: 1, limit: 1 }).map((e) => e.seq)).toEqual([2]);
  });

  it('rejects a batch with an unserialisable event and stores nothing from it', () => {
    store.appendEvents(events(2));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const batch = [...events(3), { type: 'bad', at: 1, data: circular }];
    expectStoreError(() => store.appendEvents(batch), 'STORE_INVALID_ARGUMENT');
    expectStoreError(() => store.appendEvents([{ type: 'big', at: 1, data: 10n }]), 'STORE_INVALID_ARGUMENT');
    expect(store.lastSeq()).toBe(2);
    expect(store.readEvents(0)).toHaveLength(2);
  });

  it('rolls back the whole batch when the database fails halfway through it', () => {
    store.appendEvents(events(2));
    // Forced failure inside the transaction, after some rows were inserted.
    store.db.exec(`CREATE TEMP TRIGGER fail_on_boom BEFORE INSERT ON events WHEN NEW.type = 'boom'
      BEGIN SELECT RAISE(ABORT, 'forced failure'); END`);
    const batch = [...events(5), { type: 'boom', at: 1, data: {} }, ...events(5)];
    expect(() => store.appendEvents(batch)).toThrow(StoreError);
    expect(store.db.inTransaction).toBe(false);
    expect(store.lastSeq()).toBe(2);
    expect(store.readEvents(0).map((e) => e.seq)).toEqual([1, 2]);
    // The seq counter rolled back too: no gap after a failed batch.
    expect(store.appendEvents(events(1))).toBe(3);
  });

  it('commits a tick of events and logs together, or neither', () => {
    const log = { constellationId: 'c1', taskId: 't', attempt: 1, stream: 'stdout', offset: 0, data: 'hello' };
    expect(store.commit({ events: events(3), logs: [log] })).toBe(3);
    expect(store.readLogs('c1', 't')).toHaveLength(1);
    store.db.exec(`CREATE TEMP TRIGGER fail_logs BEFORE INSERT ON task_logs WHEN NEW.task_id = 'boom'
      BEGIN SELECT RAISE(ABORT, 'forced failure'); END`);
    expect(() => store.commit({ events: events(3), logs: [{ ...log, taskId: 'boom' }] })).toThrow(StoreError);
    expect(store.lastSeq()).toBe(3);
    expect(store.readEvents(0)).toHaveLength(3);
    expect(store.commit({ events: events(2) })).toBe(5);
  });

  it('reports an event whose stored JSON is damaged as STORE_CORRUPT', () => {
    store.appendEvents(events(2));
    store.db.prepare("UPDATE events SET data = '{\"i\":' WHERE seq = 2").run();
    expect(store.readEvents(0, 1)).toHaveLength(1);
    const error = expectStoreError(() => store.readEvents(0), 'STORE_CORRUPT');
    expect(error.message).toContain('seq 2');
  });

  it('refuses calls after close with STORE_CLOSED', () => {
    store.close();
    expectStoreError(() => store.appendEvents(events(1)), 'STORE_CLOSED');
    expectStoreError(() => store.readEvents(0), 'STORE_CLOSED');
    store.close(); // idempotent
    store = openSqliteStore({ dataDir });
  });

  it('lets only one store own a data directory at a time', () => {
    expectStoreError(() => openSqliteStore({ dataDir }), 'STORE_BUSY');
    store.appendEvents(events(1)); // the owner is unaffected
    store.close();
    store = openSqliteStore({ dataDir });
    expect(store.lastSeq()).toBe(1);
  });

  it('can run with synchronous = FULL', () => {
    store.close();
    store = openSqliteStore({ dataDir, synchronous: 'FULL' });
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.appendEvents(events(2))).toBe(2);
  });
});

describe('group commit (property)', () => {
  it('the journal is exactly the concatenation of the batches that succeeded', () => {
    store.db.exec(`CREATE TEMP TRIGGER fail_on_boom BEFORE INSERT ON events WHEN NEW.type = 'boom'
      BEGIN SELECT RAISE(ABORT, 'forced failure'); END`);
    let round = 0;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            size: fc.integer({ min: 0, max: 80 }),
            // -1: no failure; otherwise the index of the event that fails (if within the batch).
            failAt: fc.integer({ min: -1, max: 80 }),
          }),
          { maxLength: 12 },
        ),
        (batches) => {
          const tag = `r${round++}`;
          const start = store.lastSeq();
          const expected: string[] = [];
          for (const [b, { size, failAt }] of batches.entries()) {
            const batch = Array.from({ length: size }, (_, i) => ({
              type: i === failAt ? 'boom' : 'ok',
              constellationId: tag,
              at: i,
              data: `${b}.${i}`,
            }));
            const fails = failAt >= 0 && failAt < size;
            if (fails) {
              expect(() => store.appendEvents(batch)).toThrow(StoreError);
            } else {
              expect(store.appendEvents(batch)).toBe(start + expected.length + size);
              expected.push(...batch.map((e) => e.data));
            }
          }
          const got = store.readEvents(start, 100_000);
          expect(got.map((e) => e.data)).toEqual(expected);
          expect(got.map((e) => e.seq)).toEqual(expected.map((_, i) => start + i + 1));
        },
      ),
      { numRuns: 40 },
    );
  });
});
