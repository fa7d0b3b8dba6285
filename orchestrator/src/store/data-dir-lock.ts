// One orchestrator per data directory. The lock is a tiny SQLite file held in
// an open EXCLUSIVE transaction: SQLite's own file locking is portable, and
// the OS drops the lock when the process dies (even by SIGKILL), so there is
// no stale lock file to clean up after a crash.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { StoreError } from './errors.js';

export const LOCK_FILE_NAME = 'orrery.lock';

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  const db: SqliteDatabase = new Database(path, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    throw new StoreError(
      'STORE_BUSY',
      `the data directory ${dataDir} is in use by another Orrery process; run one orchestrator per data directory`,
      { cause: err },
    );
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      db.close();
    },
  };
}
