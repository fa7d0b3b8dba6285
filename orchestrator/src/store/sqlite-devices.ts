// Enrolled devices and their credentials (hashed; see secrets.ts).
import type { Database, Statement } from 'better-sqlite3';
import { verifySecret } from './secrets.js';
import type { DeviceRecord } from './store.js';

interface DeviceRow {
  id: string;
  name: string;
  credential_hash: string;
  labels: string;
  revoked: number;
  created_at: number;
  last_seen_at: number | null;
}

const COLUMNS = 'id, name, credential_hash, labels, revoked, created_at, last_seen_at';

export class SqliteDevices {
  private readonly upsert: Statement;
  private readonly byId: Statement;
  private readonly byName: Statement;
  private readonly all: Statement;
  private readonly revoke: Statement;
  private readonly touch: Statement;

  constructor(db: Database) {
    this.upsert = db.prepare(
      `INSERT INTO devices (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, credential_hash = excluded.credential_hash,
         labels = excluded.labels, revoked = excluded.revoked, created_at = excluded.created_at,
         last_seen_at = excluded.last_seen_at`,
    );
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM devices WHERE id = ?`);
    // The live device of that name, else the newest revoked one.
    this.byName = db.prepare(`SELECT ${COLUMNS} FROM devices WHERE name = ? ORDER BY revoked, created_at DESC LIMIT 1`);
    this.all = db.prepare(`SELECT ${COLUMNS} FROM devices ORDER BY created_at, id`);
    this.revoke = db.prepare('UPDATE devices SET revoked = 1 WHERE id = ?');
    this.touch = db.prepare('UPDATE devices SET last_seen_at = ? WHERE id = ?');
  }

  put(record: DeviceRecord): void {
    this.upsert.run(
      record.id,
      record.name,
      record.credentialHash,
      JSON.stringify(record.labels),
      record.revoked ? 1 : 0,
      record.createdAt,
      record.lastSeenAt,
    );
  }

  get(id: string): DeviceRecord | undefined {
    return fromRow(this.byId.get(id) as DeviceRow | undefined);
  }

  getByName(name: string): DeviceRecord | undefined {
    return fromRow(this.byName.get(name) as DeviceRow | undefined);
  }

  list(): DeviceRecord[] {
    return (this.all.all() as DeviceRow[]).map((row) => fromRow(row) as DeviceRecord);
  }

  revokeById(id: string): boolean {
    return this.revoke.run(id).changes > 0;
  }

  touchById(id: string, at: number): void {
    this.touch.run(at, id);
  }

  verifyCredential(id: string, credential: string): DeviceRecord | undefined {
    const device = this.get(id);
    if (device === undefined || device.revoked) return undefined;
    return verifySecret(credential, device.credentialHash) ? device : undefined;
  }
}

function fromRow(row: DeviceRow | undefined): DeviceRecord | undefined {
  if (row === undefined) return undefined;
  return {
    id: row.id,
    name: row.name,
    credentialHash: row.credential_hash,
    labels: JSON.parse(row.labels) as string[],
    revoked: row.revoked !== 0,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}
