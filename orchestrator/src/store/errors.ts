// Typed store errors with stable codes. Callers branch on `code`, never on
// message text; the original SQLite error rides along as `cause`.

export type StoreErrorCode =
  | 'STORE_VERSION_TOO_NEW'
  | 'STORE_DISK_FULL'
  | 'STORE_CORRUPT'
  | 'STORE_IO'
  | 'STORE_CLOSED'
  | 'STORE_BUSY'
  | 'STORE_CONFLICT'
  | 'STORE_INVALID_ARGUMENT';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}

/** SQLite result codes (better-sqlite3 puts the extended name in `code`). */
function sqliteCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

/**
 * Map any error thrown by better-sqlite3 (or by our own code) to a StoreError.
 * Errors that are already StoreErrors pass through untouched.
 */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = sqliteCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code === undefined) {
    if (err instanceof TypeError && /not open/i.test(detail)) {
      return new StoreError('STORE_CLOSED', `${what}: the store is closed`, { cause: err });
    }
    return new StoreError('STORE_IO', `${what}: ${detail}`, { cause: err });
  }
  if (code === 'SQLITE_FULL') {
    return new StoreError(
      'STORE_DISK_FULL',
      `${what}: the disk (or the database size limit) is full; nothing from this call was stored. Free space and retry.`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    return new StoreError('STORE_CORRUPT', `${what}: the database file is corrupt (${code}): ${detail}`, { cause: err });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new StoreError(
      'STORE_BUSY',
      `${what}: the database is locked by another process (${code}); is another orchestrator using this data directory?`,
      { cause: err },
    );
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) {
    return new StoreError('STORE_CONFLICT', `${what}: ${detail}`, { cause: err });
  }
  return new StoreError('STORE_IO', `${what}: ${code}: ${detail}`, { cause: err });
}
