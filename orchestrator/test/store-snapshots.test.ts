import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE_NAME, type SqliteStore, StoreError, openSqliteStore } from '../src/store/index.js';

let dataDir: string;
let store: SqliteStore;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-snap-'));
  store = openSqliteStore({ dataDir });
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// A toy projection: the state is a counter per key, events add to it.
type State = Record<string, number>;
function apply(state: State, data: unknown): State {
  const { key, add } = data as { key: string; add: number };
  return { ...state, [key]: (state[key] ?? 0) + add };
}

function appendAdds(from: number, to: number): void {
  const batch = [];
  for (let i = from; i < to; i++) batch.push({ type: 'add', at: i, data: { key: `k${i % 3}`, add: i } });
  store.appendEvents(batch);
}

function recover(s: SqliteStore): State {
  const snapshot = s.loadLatestSnapshot();
  let state: State = snapshot === undefined ? {} : (snapshot.data as State);
  for (const event of s.iterateEvents(snapshot?.seq ?? 0, 7)) state = apply(state, event.data);
  return state;
}

function stateOfAll(n: number): State {
  let state: State = {};
  for (let i = 0; i < n; i++) state = apply(state, { key: `k${i % 3}`, add: i });
  return state;
}

/** Flip bytes of a snapshot's stored JSON behind the store's back. */
function corruptSnapshot(seq: number): void {
  store.close();
  const raw = new Database(join(dataDir, DB_FILE_NAME));
  raw.prepare("UPDATE snapshots SET data = replace(data, 'k', 'X') WHERE seq = ?").run(seq);
  raw.close();
  store = openSqliteStore({ dataDir, logger: pino({ level: 'silent' }) });
}

describe('snapshots and replay', () => {
  it('rebuilds the state from the latest snapshot plus the events after it', () => {
    appendAdds(0, 10);
    store.writeSnapshot(10, recover(store));
    appendAdds(10, 25);
    expect(store.loadLatestSnapshot()?.seq).toBe(10);
    store.close();
    store = openSqliteStore({ dataDir });
    expect(recover(store)).toEqual(stateOfAll(25));
  });

  it('keeps only the two newest snapshots', () => {
    appendAdds(0, 30);
    for (const seq of [5, 10, 20, 30]) store.writeSnapshot(seq, { seq });
    const seqs = store.db.prepare('SELECT seq FROM snapshots ORDER BY seq').pluck().all();
    expect(seqs).toEqual([20, 30]);
    expect(store.loadLatestSnapshot()).toMatchObject({ seq: 30, data: { seq: 30 } });
  });

  it('falls back to the previous snapshot when the newest is corrupt, and warns', () => {
    appendAdds(0, 10);
    store.writeSnapshot(10, recover(store));
    appendAdds(10, 20);
    store.writeSnapshot(20, recover(store));
    appendAdds(20, 26);
    corruptSnapshot(20);
    const warnings: unknown[] = [];
    store.close();
    const logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) });
    store = openSqliteStore({ dataDir, logger });
    expect(store.loadLatestSnapshot()?.seq).toBe(10);
    expect(recover(store)).toEqual(stateOfAll(26));
    expect(warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(warnings)).toContain('checksum');
  });

  it('detects bytes flipped in the database file itself', () => {
    appendAdds(0, 10);
    store.writeSnapshot(5, { marker: 'older-snapshot' });
    store.writeSnapshot(10, { marker: 'newest-snapshot-0123456789' });
    store.close(); // checkpoints: everything is in the main file now
    const file = join(dataDir, DB_FILE_NAME);
    const bytes = readFileSync(file);
    const at = bytes.indexOf('newest-snapshot-0123456789');
    expect(at).toBeGreaterThan(0);
    bytes[at + 20] = 'Z'.charCodeAt(0);
    writeFileSync(file, bytes);
    store = openSqliteStore({ dataDir });
    expect(store.loadLatestSnapshot()).toMatchObject({ seq: 5, data: { marker: 'older-snapshot' } });
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('falls back to a full replay when the only snapshot is corrupt', () => {
    appendAdds(0, 12);
    store.writeSnapshot(12, recover(store));
    corruptSnapshot(12);
    expect(store.loadLatestSnapshot()).toBeUndefined();
    expect(recover(store)).toEqual(stateOfAll(12));
  });

  it('compacts only what the older retained snapshot no longer needs', () => {
    appendAdds(0, 10);
    store.writeSnapshot(10, recover(store));
    expect(store.compact()).toBe(0); // one snapshot: a full replay must stay possible
    appendAdds(10, 20);
    store.writeSnapshot(20, recover(store));
    appendAdds(20, 30);
    expect(store.compact()).toBe(10);
    expect(store.readEvents(0)[0]?.seq).toBe(11);
    expect(store.compact()).toBe(0);
    // Even with the newest snapshot damaged, the older one still recovers everything.
    corruptSnapshot(20);
    expect(recover(store)).toEqual(stateOfAll(30));
  });

  it('never reuses a seq after compaction emptied the journal', () => {
    appendAdds(0, 5);
    store.writeSnapshot(4, {});
    store.writeSnapshot(5, {});
    store.compact();
    store.writeSnapshot(5, {});
    store.close();
    store = openSqliteStore({ dataDir });
    expect(store.lastSeq()).toBe(5);
    store.appendEvents([{ type: 'x', at: 1, data: 1 }]);
    expect(store.lastSeq()).toBe(6);
  });

  it('reports STORE_CORRUPT when no snapshot is valid and the journal was compacted', () => {
    appendAdds(0, 10);
    store.writeSnapshot(5, recover(store));
    store.writeSnapshot(10, recover(store));
    store.compact();
    corruptSnapshot(10);
    corruptSnapshot(5);
    expect(() => store.loadLatestSnapshot()).toThrowError(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('rejects a snapshot beyond the journal or with unserialisable data', () => {
    appendAdds(0, 3);
    expect(() => store.writeSnapshot(4, {})).toThrowError(StoreError);
    expect(() => store.writeSnapshot(2, { n: 1n })).toThrowError(
      expect.objectContaining({ code: 'STORE_INVALID_ARGUMENT' }),
    );
    expect(store.loadLatestSnapshot()).toBeUndefined();
  });
});
