// The embedded store: one SQLite file, <dataDir>/orrery.db, in WAL mode.
// This file wires the parts together and turns every failure into a
// StoreError; each part (journal, snapshots, logs, devices, tokens) lives in
// its own module.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { StoreError, toStoreError } from './errors.js';
import { CURRENT_SCHEMA_VERSION, migrateDatabase, readSchemaVersion } from './migrations.js';
import { SqliteDevices } from './sqlite-devices.js';
import { SqliteJournal } from './sqlite-journal.js';
import { DEFAULT_LOG_CAP_BYTES, SqliteLogs } from './sqlite-logs.js';
import { SqliteSnapshots } from './sqlite-snapshots.js';
import { SqliteTokens } from './sqlite-tokens.js';
import type {
  ApiRole,
  ApiTokenInfo,
  ConsumeEnrollmentResult,
  CreateEnrollmentTokenOptions,
  DeviceRecord,
  EnrollDeviceRequest,
  EnrollDeviceResult,
  EnrollmentTokenInfo,
  EventQuery,
  IssuedToken,
  JournalEvent,
  LogChunk,
  LogQuery,
  LogRecord,
  LogUsage,
  NewEvent,
  OrchestratorStore,
  Snapshot,
} from './store.js';

export const DB_FILE_NAME = 'orrery.db';

/** Internal: aborts the enrollment transaction so the token use is not counted. */
class NameTaken extends Error {}

export interface SqliteStoreOptions {
  /** Directory for orrery.db (created if missing). */
  dataDir: string;
  logger?: Logger;
  /**
   * NORMAL (default): in WAL mode a commit survives a crash of the process;
   * the last commits before a power loss or kernel panic may be lost, never
   * corrupted. FULL: fsync on every commit, survives power loss, slower.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Per-attempt cap for task logs (default 2 MiB). */
  logCapBytes?: number;
  /** How long to wait for a lock held by another connection (default 5000 ms). */
  busyTimeoutMs?: number;
  /**
   * Hold <dataDir>/orrery.lock so a second orchestrator on the same directory
   * fails fast with STORE_BUSY (default true). Turn off only for read-only tools.
   */
  lockDataDir?: boolean;
}

export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const logger = options.logger ?? pino({ level: 'silent' });
  let db: SqliteDatabase | undefined;
  let lock: DataDirLock | undefined;
  try {
    mkdirSync(options.dataDir, { recursive: true });
    if (options.lockDataDir !== false) lock = lockDataDir(options.dataDir);
    const path = join(options.dataDir, DB_FILE_NAME);
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    // Shrink the WAL file back after checkpoints so it does not hold disk space.
    db.pragma('journal_size_limit = 67108864');
    db.pragma('temp_store = MEMORY');
    const found = readSchemaVersion(db);
    if (found > 0 && found < CURRENT_SCHEMA_VERSION) {
      // Migrations only go forward: keep a copy so a downgrade is a file move.
      const backup = `${path}.backup-v${found}-${Date.now()}`;
      db.prepare('VACUUM INTO ?').run(backup);
      logger.info({ backup, from: found }, 'store backed up before schema migration');
    }
    const { from, to } = migrateDatabase(db);
    if (from !== to) logger.info({ from, to, path }, 'store schema migrated');
    return new SqliteStore(db, logger, options.logCapBytes ?? DEFAULT_LOG_CAP_BYTES, lock);
  } catch (err) {
    db?.close();
    lock?.release();
    throw toStoreError(err, `opening the store in ${options.dataDir}`);
  }
}

export class SqliteStore implements OrchestratorStore {
  private readonly journal: SqliteJournal;
  private readonly snapshots: SqliteSnapshots;
  private readonly logs: SqliteLogs;
  private readonly devices: SqliteDevices;
  private readonly tokens: SqliteTokens;
  private closed = false;
  private readonly commitTick: (events: readonly NewEvent[], logs: readonly LogRecord[]) => number;
  private readonly enroll: (token: string, request: EnrollDeviceRequest) => EnrollDeviceResult;

  /** The raw connection, for diagnostics and tests; do not write through it. */
  constructor(
    readonly db: SqliteDatabase,
    private readonly logger: Logger,
    logCapBytes: number,
    private readonly lock?: DataDirLock,
  ) {
    this.journal = new SqliteJournal(db);
    this.snapshots = new SqliteSnapshots(db, this.journal, logger);
    this.logs = new SqliteLogs(db, logCapBytes);
    this.devices = new SqliteDevices(db);
    this.tokens = new SqliteTokens(db);
    // The parts' own transactions nest inside this one as savepoints.
    this.commitTick = db.transaction((events: readonly NewEvent[], logs: readonly LogRecord[]) => {
      const seq = this.journal.append(events);
      this.logs.append(logs);
      return seq;
    });
    this.enroll = db.transaction((token: string, request: EnrollDeviceRequest): EnrollDeviceResult => {
      const at = request.at ?? Date.now();
      // Token first, so a caller without a valid token learns nothing about names.
      const used = this.tokens.consumeEnrollment(token, at);
      if (!used.ok) return used;
      const existing = this.devices.getByName(request.name);
      if (existing !== undefined && !existing.revoked) throw new NameTaken(); // rolls back the use
      const labels = [...new Set([...used.token.labels, ...(request.labels ?? [])])];
      const device: DeviceRecord = {
        id: request.id,
        name: request.name,
        credentialHash: request.credentialHash,
        labels,
        revoked: false,
        createdAt: at,
        lastSeenAt: null,
      };
      this.devices.put(device);
      return { ok: true, device, token: used.token };
    });
  }

  /** Run one operation: refuse after close, translate SQLite errors. */
  private guard<T>(what: string, operation: () => T): T {
    if (this.closed) throw new StoreError('STORE_CLOSED', `${what}: the store is closed`);
    try {
      return operation();
    } catch (err) {
      const error = toStoreError(err, what);
      if (error.code === 'STORE_DISK_FULL' || error.code === 'STORE_CORRUPT' || error.code === 'STORE_IO') {
        this.logger.error({ code: error.code, err: error.cause ?? error }, error.message);
      }
      throw error;
    }
  }

  appendEvents(events: readonly NewEvent[]): number {
    return this.guard('appending events', () => this.journal.append(events));
  }

  commit(tick: { events: readonly NewEvent[]; logs?: readonly LogRecord[] }): number {
    return this.guard('committing a tick', () => this.commitTick(tick.events, tick.logs ?? []));
  }

  readEvents(afterSeq: number, limit?: number): JournalEvent[] {
    return this.guard('reading events', () => this.journal.read(afterSeq, limit));
  }

  *iterateEvents(afterSeq: number, pageSize = 1000): IterableIterator<JournalEvent> {
    let cursor = afterSeq;
    for (;;) {
      const page = this.readEvents(cursor, pageSize);
      yield* page;
      const last = page[page.length - 1];
      if (last === undefined || page.length < pageSize) return;
      cursor = last.seq;
    }
  }

  listEvents(query: EventQuery): JournalEvent[] {
    return this.guard('listing events', () => this.journal.list(query));
  }

  lastSeq(): number {
    return this.guard('reading the last seq', () => this.journal.lastSeq());
  }

  writeSnapshot(seq: number, data: unknown): void {
    this.guard('writing a snapshot', () => this.snapshots.write(seq, data));
  }

  loadLatestSnapshot(): Snapshot | undefined {
    return this.guard('loading the latest snapshot', () => this.snapshots.loadLatest());
  }

  compact(): number {
    return this.guard('compacting the journal', () => this.snapshots.compact());
  }

  appendLogs(records: readonly LogRecord[]): void {
    this.guard('appending task logs', () => this.logs.append(records));
  }

  readLogs(constellationId: string, taskId: string, query?: LogQuery): LogChunk[] {
    return this.guard('reading task logs', () => this.logs.read(constellationId, taskId, query));
  }

  logUsage(constellationId: string, taskId: string, attempt: number): LogUsage {
    return this.guard('reading log usage', () => this.logs.usage(constellationId, taskId, attempt));
  }

  deleteLogs(constellationId: string): number {
    return this.guard('deleting task logs', () => this.logs.deleteFor(constellationId));
  }

  putDevice(record: DeviceRecord): void {
    this.guard('saving a device', () => this.devices.put(record));
  }

  getDevice(id: string): DeviceRecord | undefined {
    return this.guard('reading a device', () => this.devices.get(id));
  }

  getDeviceByName(name: string): DeviceRecord | undefined {
    return this.guard('reading a device', () => this.devices.getByName(name));
  }

  listDevices(): DeviceRecord[] {
    return this.guard('listing devices', () => this.devices.list());
  }

  revokeDevice(id: string): boolean {
    return this.guard('revoking a device', () => this.devices.revokeById(id));
  }

  touchDevice(id: string, at: number): void {
    this.guard('updating device last-seen', () => this.devices.touchById(id, at));
  }

  verifyDeviceCredential(id: string, credential: string): DeviceRecord | undefined {
    return this.guard('verifying a device credential', () => this.devices.verifyCredential(id, credential));
  }

  createEnrollmentToken(options?: CreateEnrollmentTokenOptions): IssuedToken<EnrollmentTokenInfo> {
    return this.guard('creating an enrollment token', () => this.tokens.createEnrollment(options));
  }

  consumeEnrollmentToken(token: string, now?: number): ConsumeEnrollmentResult {
    return this.guard('consuming an enrollment token', () => this.tokens.consumeEnrollment(token, now));
  }

  listEnrollmentTokens(): EnrollmentTokenInfo[] {
    return this.guard('listing enrollment tokens', () => this.tokens.listEnrollment());
  }

  revokeEnrollmentToken(id: string): boolean {
    return this.guard('revoking an enrollment token', () => this.tokens.revokeEnrollment(id));
  }

  enrollDevice(token: string, request: EnrollDeviceRequest): EnrollDeviceResult {
    return this.guard('enrolling a device', () => {
      try {
        return this.enroll(token, request);
      } catch (err) {
        if (err instanceof NameTaken) return { ok: false, reason: 'name_taken' };
        throw err;
      }
    });
  }

  createApiToken(options: { role: ApiRole; name?: string }): IssuedToken<ApiTokenInfo> {
    return this.guard('creating an API token', () => this.tokens.createApi(options));
  }

  verifyApiToken(token: string): ApiRole | undefined {
    return this.guard('verifying an API token', () => this.tokens.verifyApi(token));
  }

  listApiTokens(): ApiTokenInfo[] {
    return this.guard('listing API tokens', () => this.tokens.listApi());
  }

  revokeApiToken(id: string): boolean {
    return this.guard('revoking an API token', () => this.tokens.revokeApi(id));
  }

  /** SQLite's own consistency check (slow on big files: an operator tool, not a hot path). */
  checkIntegrity(): { ok: boolean; problems: string[] } {
    return this.guard('checking integrity', () => {
      const problems = (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
      const ok = problems.length === 1 && problems[0] === 'ok';
      return { ok, problems: ok ? [] : problems };
    });
  }

  /**
   * Online, consistent copy of the database to `destPath` (SQLite's backup
   * API, copied in steps so the engine keeps running meanwhile).
   */
  async backup(destPath: string): Promise<void> {
    if (this.closed) throw new StoreError('STORE_CLOSED', 'backing up: the store is closed');
    try {
      await this.db.backup(destPath);
    } catch (err) {
      throw toStoreError(err, `backing up to ${destPath}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // Fold the WAL into the main file so the data dir is one self-contained file.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.logger.warn({ err }, 'WAL checkpoint on close failed; the WAL will be replayed on next open');
    }
    this.db.close();
    this.lock?.release();
  }
}
