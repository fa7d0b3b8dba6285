// The durable store behind the engine, as an interface so a PostgreSQL
// implementation can replace the embedded SQLite one. The API is synchronous
// because the engine is a single-writer loop that commits one group of events
// per tick before it emits commands; see docs/storage.md for the async path.

/** An event as the engine hands it to the store. Opaque to the store. */
export interface NewEvent {
  type: string;
  constellationId?: string;
  /** Wall-clock time in ms since the epoch. */
  at: number;
  /** Any JSON-serialisable value. */
  data: unknown;
}

/** An event as stored: `seq` is dense, increasing and never reused. */
export interface JournalEvent extends NewEvent {
  seq: number;
}

export interface EventQuery {
  constellationId?: string;
  types?: readonly string[];
  /** Only events with seq > afterSeq. */
  afterSeq?: number;
  /** At most this many (default 1000). */
  limit?: number;
}

export interface Snapshot {
  /** The journal seq this state includes: replay events with seq > this. */
  seq: number;
  data: unknown;
  createdAt: number;
}

export interface LogRecord {
  constellationId: string;
  taskId: string;
  attempt: number;
  /** 'stdout' | 'stderr' | 'system' or any other stream name. */
  stream: string;
  /** Byte offset of this chunk within its stream, as counted by the agent. */
  offset: number;
  data: Buffer | string;
  /** ms since epoch; defaults to now. */
  at?: number;
}

export interface LogChunk {
  /** Increasing per store; use as `afterId` to page or follow. */
  id: number;
  constellationId: string;
  taskId: string;
  attempt: number;
  stream: string;
  offset: number;
  data: Buffer;
  at: number;
  /**
   * Bytes of this attempt's output dropped right before this chunk by the
   * per-attempt cap (0 almost always). A reader shows a "… N bytes dropped …"
   * marker here.
   */
  droppedBefore: number;
}

export interface LogQuery {
  attempt?: number;
  afterId?: number;
  /** At most this many chunks (default 1000). */
  limit?: number;
}

export interface LogUsage {
  storedBytes: number;
  droppedBytes: number;
}

export interface DeviceRecord {
  id: string;
  name: string;
  /** hashSecret() of the device's credential; never the credential itself. */
  credentialHash: string;
  labels: string[];
  revoked: boolean;
  createdAt: number;
  lastSeenAt: number | null;
}

export interface EnrollmentTokenInfo {
  id: string;
  labels: string[];
  expiresAt: number | null;
  maxUses: number | null;
  uses: number;
  revoked: boolean;
  createdAt: number;
}

export interface CreateEnrollmentTokenOptions {
  expiresAt?: number;
  maxUses?: number;
  labels?: string[];
}

export type ConsumeEnrollmentResult =
  | { ok: true; token: EnrollmentTokenInfo }
  | { ok: false; reason: 'unknown' | 'expired' | 'exhausted' | 'revoked' };

export interface EnrollDeviceRequest {
  id: string;
  name: string;
  /** hashSecret() of the credential the orchestrator hands the device. */
  credentialHash: string;
  /** Added to the token's labels. */
  labels?: string[];
  /** ms since epoch; defaults to now (also used for token expiry). */
  at?: number;
}

export type EnrollDeviceResult =
  | { ok: true; device: DeviceRecord; token: EnrollmentTokenInfo }
  | { ok: false; reason: 'unknown' | 'expired' | 'exhausted' | 'revoked' | 'name_taken' };

export type ApiRole = 'admin' | 'operator' | 'viewer';

export interface ApiTokenInfo {
  id: string;
  name: string;
  role: ApiRole;
  revoked: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

/** A freshly created secret: `token` is shown once and never stored. */
export interface IssuedToken<T> {
  token: string;
  info: T;
}

export interface OrchestratorStore {
  // Journal
  /** Commit all events in one transaction (group commit); returns the last seq. */
  appendEvents(events: readonly NewEvent[]): number;
  /**
   * One engine tick: its events and its task-log chunks in ONE transaction,
   * so a failure leaves neither and retrying the same tick never duplicates
   * events. Returns the last seq.
   */
  commit(tick: { events: readonly NewEvent[]; logs?: readonly LogRecord[] }): number;
  /** Events with seq > afterSeq in seq order, at most `limit` (default 1000). */
  readEvents(afterSeq: number, limit?: number): JournalEvent[];
  /** All events with seq > afterSeq, fetched a page at a time (writes may interleave between pages). */
  iterateEvents(afterSeq: number, pageSize?: number): IterableIterator<JournalEvent>;
  /** History queries (e.g. edit.applied events of one constellation). */
  listEvents(query: EventQuery): JournalEvent[];
  /** The highest seq ever assigned (0 when none), even if compacted away. */
  lastSeq(): number;

  // Snapshots
  writeSnapshot(seq: number, data: unknown): void;
  /** Newest snapshot whose checksum verifies; undefined means replay from 0. */
  loadLatestSnapshot(): Snapshot | undefined;
  /** Delete events no retained snapshot needs; returns how many were deleted. */
  compact(): number;

  // Task logs
  appendLogs(records: readonly LogRecord[]): void;
  readLogs(constellationId: string, taskId: string, query?: LogQuery): LogChunk[];
  logUsage(constellationId: string, taskId: string, attempt: number): LogUsage;
  /** Retention: drop all log chunks of a constellation; returns how many. */
  deleteLogs(constellationId: string): number;

  // Devices
  putDevice(record: DeviceRecord): void;
  getDevice(id: string): DeviceRecord | undefined;
  /** The live device with that name, else the most recent revoked one. */
  getDeviceByName(name: string): DeviceRecord | undefined;
  listDevices(): DeviceRecord[];
  /** Returns false when no such device. */
  revokeDevice(id: string): boolean;
  touchDevice(id: string, at: number): void;
  /** The device when the credential matches and it is not revoked. */
  verifyDeviceCredential(id: string, credential: string): DeviceRecord | undefined;

  // Enrollment tokens
  createEnrollmentToken(options?: CreateEnrollmentTokenOptions): IssuedToken<EnrollmentTokenInfo>;
  consumeEnrollmentToken(token: string, now?: number): ConsumeEnrollmentResult;
  listEnrollmentTokens(): EnrollmentTokenInfo[];
  revokeEnrollmentToken(id: string): boolean;
  /**
   * Consume an enrollment token and register the device in one transaction:
   * a refused enrollment (bad token, or a live device already has the name)
   * leaves the token's use count untouched.
   */
  enrollDevice(token: string, request: EnrollDeviceRequest): EnrollDeviceResult;

  // API tokens
  createApiToken(options: { role: ApiRole; name?: string }): IssuedToken<ApiTokenInfo>;
  verifyApiToken(token: string): ApiRole | undefined;
  listApiTokens(): ApiTokenInfo[];
  revokeApiToken(id: string): boolean;

  /** A consistent copy of the whole store, taken while it keeps running. */
  backup(destPath: string): Promise<void>;

  /** Checkpoint the WAL and close. Idempotent. */
  close(): void;
}
