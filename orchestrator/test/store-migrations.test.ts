import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CURRENT_SCHEMA_VERSION,
  DB_FILE_NAME,
  StoreError,
  migrateDatabase,
  openSqliteStore,
  readSchemaVersion,
} from '../src/store/index.js';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-migrate-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

function indexNames(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[];
}

describe('schema migrations', () => {
  it('creates a new database at the current version', () => {
    const store = openSqliteStore({ dataDir });
    expect(CURRENT_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(readSchemaVersion(store.db)).toBe(CURRENT_SCHEMA_VERSION);
    store.close();
  });

  it('migrates a v1 database written by an older build, keeping its data', () => {
    const raw = new Database(join(dataDir, DB_FILE_NAME));
    raw.pragma('journal_mode = WAL');
    expect(migrateDatabase(raw, { targetVersion: 1 })).toEqual({ from: 0, to: 1 });
    raw.prepare("INSERT INTO events (type, constellation_id, at, data) VALUES ('old', 'c', 1, '{\"v\":1}')").run();
    raw.prepare(
      "INSERT INTO task_logs (constellation_id, task_id, attempt, stream, offset, at, head, data) VALUES ('c', 't', 1, 'stdout', 0, 1, 1, x'6869')",
    ).run();
    raw.prepare(
      "INSERT INTO devices (id, name, credential_hash, labels, revoked, created_at) VALUES ('d1', 'pi', 'h', '[\"edge\"]', 1, 5)",
    ).run();
    expect(indexNames(raw)).not.toContain('task_logs_by_attempt');
    raw.close();

    const store = openSqliteStore({ dataDir });
    expect(readSchemaVersion(store.db)).toBe(CURRENT_SCHEMA_VERSION);
    expect(indexNames(store.db)).toEqual(
      expect.arrayContaining(['task_logs_by_attempt', 'events_by_constellation', 'devices_live_name']),
    );
    expect(store.getDevice('d1')).toMatchObject({ name: 'pi', labels: ['edge'], revoked: true, createdAt: 5 });
    expect(store.readEvents(0)).toEqual([{ seq: 1, type: 'old', constellationId: 'c', at: 1, data: { v: 1 } }]);
    expect(store.readLogs('c', 't', { attempt: 1 })[0]?.data.toString()).toBe('hi');
    expect(store.appendEvents([{ type: 'new', at: 2, data: {} }])).toBe(2);
    const applied = store.db.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    expect(applied).toEqual(Array.from({ length: CURRENT_SCHEMA_VERSION }, (_, i) => i + 1));
    store.close();

    // The pre-migration copy is a v1 database with the old data.
    const backupName = readdirSync(dataDir).find((f) => f.startsWith(`${DB_FILE_NAME}.backup-v1-`));
    expect(backupName).toBeDefined();
    const backup = new Database(join(dataDir, backupName as string), { readonly: true });
    expect(readSchemaVersion(backup)).toBe(1);
    expect(backup.prepare('SELECT type FROM events').pluck().all()).toEqual(['old']);
    backup.close();
  });

  it('migrates step by step: a v2 database gets only v3', () => {
    const raw = new Database(join(dataDir, DB_FILE_NAME));
    migrateDatabase(raw, { targetVersion: 2 });
    expect(migrateDatabase(raw)).toEqual({ from: 2, to: CURRENT_SCHEMA_VERSION });
    expect(migrateDatabase(raw)).toEqual({ from: CURRENT_SCHEMA_VERSION, to: CURRENT_SCHEMA_VERSION });
    raw.close();
  });

  it('refuses a database written by a newer build with STORE_VERSION_TOO_NEW', () => {
    openSqliteStore({ dataDir }).close();
    const raw = new Database(join(dataDir, DB_FILE_NAME));
    raw.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(CURRENT_SCHEMA_VERSION + 5, 1);
    raw.close();
    let error: unknown;
    try {
      openSqliteStore({ dataDir });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('STORE_VERSION_TOO_NEW');
    expect((error as StoreError).message).toMatch(/upgrade/i);
  });

  it('reports a file that is not a database as STORE_CORRUPT', () => {
    writeFileSync(join(dataDir, DB_FILE_NAME), Buffer.alloc(8192, 0x5a));
    expect(() => openSqliteStore({ dataDir })).toThrowError(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });

  it('takes an online backup that opens as a store', async () => {
    const store = openSqliteStore({ dataDir });
    store.appendEvents([{ type: 'kept', at: 1, data: { n: 1 } }]);
    const copyDir = join(dataDir, 'copy');
    const copy = openSqliteStore({ dataDir: copyDir });
    copy.close();
    await store.backup(join(copyDir, DB_FILE_NAME));
    store.close();
    const restored = openSqliteStore({ dataDir: copyDir });
    expect(restored.readEvents(0).map((e) => e.type)).toEqual(['kept']);
    restored.close();
  });

  it('creates the data directory when missing', () => {
    const nested = join(dataDir, 'a', 'b');
    const store = openSqliteStore({ dataDir: nested });
    expect(store.lastSeq()).toBe(0);
    store.close();
  });
});
