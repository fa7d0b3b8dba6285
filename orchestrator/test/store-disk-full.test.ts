// A full disk, made portable: `PRAGMA max_page_count` caps the database size,
// and SQLite reports hitting the cap exactly like ENOSPC (SQLITE_FULL).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NewEvent, type SqliteStore, StoreError, openSqliteStore } from '../src/store/index.js';

let dataDir: string;
let store: SqliteStore;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-full-'));
  store = openSqliteStore({ dataDir });
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function batch(n: number, tag: string): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'fill', at: i, data: { tag, i, pad: 'p'.repeat(500) } }));
}

function capDatabase(extraPages: number): void {
  const pages = store.db.pragma('page_count', { simple: true }) as number;
  store.db.pragma(`max_page_count = ${pages + extraPages}`);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return (err as StoreError).code;
  }
  return undefined;
}

describe('disk full', () => {
  it('fails the whole batch with STORE_DISK_FULL, stays consistent, and recovers when space returns', () => {
    expect(store.appendEvents(batch(10, 'before'))).toBe(10);
    capDatabase(4);
    expect(codeOf(() => store.appendEvents(batch(500, 'too-big')))).toBe('STORE_DISK_FULL');
    expect(store.db.inTransaction).toBe(false);
    expect(store.lastSeq()).toBe(10);
    expect(store.readEvents(0, 1000)).toHaveLength(10);
    expect(store.readEvents(0, 1000).every((e) => (e.data as { tag: string }).tag === 'before')).toBe(true);
    expect(store.checkIntegrity()).toEqual({ ok: true, problems: [] });

    // Other writers fail the same way and leave nothing behind.
    const log = { constellationId: 'c', taskId: 't', attempt: 1, stream: 'stdout', offset: 0, data: 'x'.repeat(200_000) };
    expect(codeOf(() => store.appendLogs([log]))).toBe('STORE_DISK_FULL');
    expect(store.readLogs('c', 't')).toEqual([]);
    expect(codeOf(() => store.writeSnapshot(10, { big: 'y'.repeat(200_000) }))).toBe('STORE_DISK_FULL');
    expect(store.loadLatestSnapshot()).toBeUndefined();

    // Space comes back: appends resume with the next seq, no gap.
    store.db.pragma('max_page_count = 1073741823');
    expect(store.appendEvents(batch(500, 'after'))).toBe(510);
    expect(store.readEvents(10, 1)[0]?.seq).toBe(11);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    store.close();
    store = openSqliteStore({ dataDir });
    expect(store.lastSeq()).toBe(510);
    expect(store.readEvents(0, 1000).map((e) => e.seq)).toEqual(Array.from({ length: 510 }, (_, i) => i + 1));
  });
});
