// Enrollment tokens (let a new device join) and API tokens (role-based HTTP
// access). Only salted hashes are stored; the plain token is returned once.
import type { Database, Statement } from 'better-sqlite3';
import { StoreError } from './errors.js';
import { formatToken, generateSecret, generateTokenId, hashSecret, parseToken, verifySecret } from './secrets.js';
import type {
  ApiRole,
  ApiTokenInfo,
  ConsumeEnrollmentResult,
  CreateEnrollmentTokenOptions,
  EnrollmentTokenInfo,
  IssuedToken,
} from './store.js';

export const ENROLLMENT_TOKEN_PREFIX = 'orre';
export const API_TOKEN_PREFIX = 'orra';
const ROLES: readonly ApiRole[] = ['admin', 'operator', 'viewer'];

interface EnrollmentRow {
  id: string;
  secret_hash: string;
  labels: string;
  expires_at: number | null;
  max_uses: number | null;
  uses: number;
  revoked: number;
  created_at: number;
}

interface ApiRow {
  id: string;
  name: string;
  role: ApiRole;
  secret_hash: string;
  revoked: number;
  created_at: number;
  last_used_at: number | null;
}

export class SqliteTokens {
  private readonly insertEnrollment: Statement;
  private readonly enrollmentById: Statement;
  private readonly enrollmentAll: Statement;
  private readonly enrollmentUse: Statement;
  private readonly enrollmentRevoke: Statement;
  private readonly insertApi: Statement;
  private readonly apiById: Statement;
  private readonly apiAll: Statement;
  private readonly apiUsed: Statement;
  private readonly apiRevoke: Statement;
  private readonly consume: (token: string, now: number) => ConsumeEnrollmentResult;

  constructor(db: Database) {
    this.insertEnrollment = db.prepare(
      'INSERT INTO enrollment_tokens (id, secret_hash, labels, expires_at, max_uses, uses, revoked, created_at) VALUES (?, ?, ?, ?, ?, 0, 0, ?)',
    );
    this.enrollmentById = db.prepare('SELECT * FROM enrollment_tokens WHERE id = ?');
    this.enrollmentAll = db.prepare('SELECT * FROM enrollment_tokens ORDER BY created_at, id');
    this.enrollmentUse = db.prepare('UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ?');
    this.enrollmentRevoke = db.prepare('UPDATE enrollment_tokens SET revoked = 1 WHERE id = ?');
    this.insertApi = db.prepare(
      'INSERT INTO api_tokens (id, name, role, secret_hash, revoked, created_at) VALUES (?, ?, ?, ?, 0, ?)',
    );
    this.apiById = db.prepare('SELECT * FROM api_tokens WHERE id = ?');
    this.apiAll = db.prepare('SELECT * FROM api_tokens ORDER BY created_at, id');
    this.apiUsed = db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?');
    this.apiRevoke = db.prepare('UPDATE api_tokens SET revoked = 1 WHERE id = ?');
    // Check and count in one transaction so two devices cannot both take the last use.
    this.consume = db.transaction((token: string, now: number): ConsumeEnrollmentResult => {
      const parsed = parseToken(ENROLLMENT_TOKEN_PREFIX, token);
      const row =
        parsed === undefined ? undefined : (this.enrollmentById.get(parsed.id) as EnrollmentRow | undefined);
      if (parsed === undefined || row === undefined || !verifySecret(parsed.secret, row.secret_hash)) {
        return { ok: false, reason: 'unknown' };
      }
      if (row.revoked !== 0) return { ok: false, reason: 'revoked' };
      if (row.expires_at !== null && now >= row.expires_at) return { ok: false, reason: 'expired' };
      if (row.max_uses !== null && row.uses >= row.max_uses) return { ok: false, reason: 'exhausted' };
      this.enrollmentUse.run(row.id);
      return { ok: true, token: enrollmentInfo({ ...row, uses: row.uses + 1 }) };
    });
  }

  createEnrollment(options: CreateEnrollmentTokenOptions = {}): IssuedToken<EnrollmentTokenInfo> {
    if (options.maxUses !== undefined && (!Number.isInteger(options.maxUses) || options.maxUses < 1)) {
      throw new StoreError('STORE_INVALID_ARGUMENT', `maxUses must be a positive integer, got ${options.maxUses}`);
    }
    const id = generateTokenId();
    const secret = generateSecret();
    const createdAt = Date.now();
    const labels = options.labels ?? [];
    this.insertEnrollment.run(
      id,
      hashSecret(secret),
      JSON.stringify(labels),
      options.expiresAt ?? null,
      options.maxUses ?? null,
      createdAt,
    );
    return {
      token: formatToken(ENROLLMENT_TOKEN_PREFIX, id, secret),
      info: {
        id,
        labels,
        expiresAt: options.expiresAt ?? null,
        maxUses: options.maxUses ?? null,
        uses: 0,
        revoked: false,
        createdAt,
      },
    };
  }

  consumeEnrollment(token: string, now: number = Date.now()): ConsumeEnrollmentResult {
    return this.consume(token, now);
  }

  listEnrollment(): EnrollmentTokenInfo[] {
    return (this.enrollmentAll.all() as EnrollmentRow[]).map(enrollmentInfo);
  }

  revokeEnrollment(id: string): boolean {
    return this.enrollmentRevoke.run(id).changes > 0;
  }

  createApi(options: { role: ApiRole; name?: string }): IssuedToken<ApiTokenInfo> {
    if (!ROLES.includes(options.role)) {
      throw new StoreError('STORE_INVALID_ARGUMENT', `role must be one of ${ROLES.join(', ')}, got ${options.role}`);
    }
    const id = generateTokenId();
    const secret = generateSecret();
    const createdAt = Date.now();
    const name = options.name ?? '';
    this.insertApi.run(id, name, options.role, hashSecret(secret), createdAt);
    return {
      token: formatToken(API_TOKEN_PREFIX, id, secret),
      info: { id, name, role: options.role, revoked: false, createdAt, lastUsedAt: null },
    };
  }

  verifyApi(token: string, now: number = Date.now()): ApiRole | undefined {
    const parsed = parseToken(API_TOKEN_PREFIX, token);
    if (parsed === undefined) return undefined;
    const row = this.apiById.get(parsed.id) as ApiRow | undefined;
    if (row === undefined || row.revoked !== 0 || !verifySecret(parsed.secret, row.secret_hash)) return undefined;
    // Coarse last-used stamp, at most one write per token per minute, best
    // effort: a full disk must not lock operators out of the API.
    if (row.last_used_at === null || now - row.last_used_at > 60_000) {
      try {
        this.apiUsed.run(now, row.id);
      } catch {
        // ignored on purpose
      }
    }
    return row.role;
  }

  listApi(): ApiTokenInfo[] {
    return (this.apiAll.all() as ApiRow[]).map((row) => ({
      id: row.id,
      name: row.name,
      role: row.role,
      revoked: row.revoked !== 0,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
    }));
  }

  revokeApi(id: string): boolean {
    return this.apiRevoke.run(id).changes > 0;
  }
}

function enrollmentInfo(row: EnrollmentRow): EnrollmentTokenInfo {
  return {
    id: row.id,
    labels: JSON.parse(row.labels) as string[],
    expiresAt: row.expires_at,
    maxUses: row.max_uses,
    uses: row.uses,
    revoked: row.revoked !== 0,
    createdAt: row.created_at,
  };
}
