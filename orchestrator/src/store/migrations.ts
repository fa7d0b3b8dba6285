// Ordered schema migrations. Each runs once, in its own transaction, together
// with the row that records it, so a crash mid-migration leaves the previous
// version intact. Never edit a released migration: append a new one.
import type { Database } from 'better-sqlite3';
import { StoreError } from './errors.js';

export interface Migration {
  version: number;
  description: string;
  up(db: Database): void;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema: journal, snapshots, task logs, devices, tokens',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        -- AUTOINCREMENT: a seq is never reused, even after compaction empties the table.
        CREATE TABLE events (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          type TEXT NOT NULL,
          constellation_id TEXT,
          at INTEGER NOT NULL,
          data TEXT NOT NULL
        );
        CREATE TABLE snapshots (
          seq INTEGER PRIMARY KEY,
          created_at INTEGER NOT NULL,
          checksum TEXT NOT NULL,
          data TEXT NOT NULL
        );
        CREATE TABLE task_logs (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          constellation_id TEXT NOT NULL,
          task_id TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          stream TEXT NOT NULL,
          offset INTEGER NOT NULL,
          at INTEGER NOT NULL,
          head INTEGER NOT NULL,
          dropped_before INTEGER NOT NULL DEFAULT 0,
          data BLOB NOT NULL
        );
        CREATE TABLE log_usage (
          constellation_id TEXT NOT NULL,
          task_id TEXT NOT NULL,
          attempt INTEGER NOT NULL,
          head_bytes INTEGER NOT NULL,
          head_closed INTEGER NOT NULL,
          stored_bytes INTEGER NOT NULL,
          dropped_bytes INTEGER NOT NULL,
          PRIMARY KEY (constellation_id, task_id, attempt)
        ) WITHOUT ROWID;
        CREATE TABLE devices (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL UNIQUE,
          credential_hash TEXT NOT NULL,
          labels TEXT NOT NULL,
          revoked INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL,
          last_seen_at INTEGER
        );
        CREATE TABLE enrollment_tokens (
          id TEXT PRIMARY KEY,
          secret_hash TEXT NOT NULL,
          labels TEXT NOT NULL,
          expires_at INTEGER,
          max_uses INTEGER,
          uses INTEGER NOT NULL DEFAULT 0,
          revoked INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE api_tokens (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
          secret_hash TEXT NOT NULL,
          revoked INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL,
          last_used_at INTEGER
        );
      `);
    },
  },
  {
    version: 2,
    description: 'indexes for per-attempt log reads and per-constellation history',
    up(db) {
      db.exec(`
        CREATE INDEX task_logs_by_attempt ON task_logs (constellation_id, task_id, attempt, id);
        CREATE INDEX events_by_constellation ON events (constellation_id, seq) WHERE constellation_id IS NOT NULL;
      `);
    },
  },
  {
    version: 3,
    description: 'device names unique among live devices only, so a revoked device can be enrolled again',
    up(db) {
      // SQLite cannot drop a column's UNIQUE constraint: rebuild the table.
      db.exec(`
        CREATE TABLE devices_v3 (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          credential_hash TEXT NOT NULL,
          labels TEXT NOT NULL,
          revoked INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL,
          last_seen_at INTEGER
        );
        INSERT INTO devices_v3 SELECT id, name, credential_hash, labels, revoked, created_at, last_seen_at FROM devices;
        DROP TABLE devices;
        ALTER TABLE devices_v3 RENAME TO devices;
        CREATE UNIQUE INDEX devices_live_name ON devices (name) WHERE revoked = 0;
        CREATE INDEX devices_by_name ON devices (name, revoked, created_at);
      `);
    },
  },
  {
    version: 4,
    description: 'planner audit log and replan proposals',
    up(db) {
      db.exec(`
        CREATE TABLE planner_calls (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          at INTEGER NOT NULL,
          kind TEXT NOT NULL,
          planner TEXT NOT NULL,
          model TEXT,
          constellation_id TEXT,
          requested_by TEXT NOT NULL,
          prompt TEXT NOT NULL,
          response TEXT NOT NULL,
          outcome TEXT NOT NULL,
          error TEXT,
          duration_ms INTEGER NOT NULL
        );
        CREATE INDEX planner_calls_by_constellation ON planner_calls (constellation_id, id);
        CREATE TABLE replan_proposals (
          id TEXT PRIMARY KEY,
          constellation_id TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          revision INTEGER NOT NULL,
          task_id TEXT,
          trigger TEXT NOT NULL,
          planner TEXT NOT NULL,
          model TEXT,
          comment TEXT NOT NULL,
          operations TEXT NOT NULL,
          status TEXT NOT NULL,
          call_id INTEGER,
          decided_at INTEGER,
          decided_by TEXT,
          error TEXT,
          applied_revision INTEGER
        );
        CREATE INDEX replan_proposals_by_constellation ON replan_proposals (constellation_id, created_at);
      `);
    },
  },
];

export const CURRENT_SCHEMA_VERSION = migrations[migrations.length - 1]?.version ?? 0;

/** The schema version recorded in the database (0 for a new, empty file). */
export function readSchemaVersion(db: Database): number {
  const table = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Bring the database up to `targetVersion` (default: the newest this build
 * knows). Refuses a database written by a newer build: running old code on a
 * newer schema could silently lose data.
 */
export function migrateDatabase(
  db: Database,
  options: { targetVersion?: number; list?: readonly Migration[] } = {},
): { from: number; to: number } {
  const list = options.list ?? migrations;
  const known = list[list.length - 1]?.version ?? 0;
  const target = options.targetVersion ?? known;
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const from = readSchemaVersion(db);
  if (from > known) {
    throw new StoreError(
      'STORE_VERSION_TOO_NEW',
      `The database schema is version ${from} but this Orrery build knows only up to version ${known}. ` +
        'It was written by a newer Orrery: upgrade Orrery (or restore a backup taken before the upgrade).',
    );
  }
  const record = db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)');
  for (const migration of list) {
    if (migration.version <= from || migration.version > target) continue;
    db.transaction(() => {
      migration.up(db);
      record.run(migration.version, Date.now());
    })();
  }
  return { from, to: Math.max(from, Math.min(target, known)) };
}
