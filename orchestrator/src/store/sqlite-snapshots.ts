// Snapshots of the engine's projected state. Two are kept: if the newest is
// damaged (checksum mismatch, unparsable), the older one plus the events
// after it rebuild the same state. Compaction never deletes an event that
// the older snapshot still needs.
import { createHash } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import type { Logger } from 'pino';
import { StoreError } from './errors.js';
import type { SqliteJournal } from './sqlite-journal.js';
import type { Snapshot } from './store.js';

const RETAINED = 2;
const COMPACTED_KEY = 'compacted_through';

interface SnapshotRow {
  seq: number;
  created_at: number;
  checksum: string;
  data: string;
}

export class SqliteSnapshots {
  private readonly upsert: Statement;
  private readonly prune: Statement;
  private readonly deleteOne: Statement;
  private readonly selectSeqs: Statement;
  private readonly selectOne: Statement;
  private readonly getMeta: Statement;
  private readonly setMeta: Statement;

  constructor(
    private readonly db: Database,
    private readonly journal: SqliteJournal,
    private readonly logger: Logger,
  ) {
    this.upsert = db.prepare('INSERT OR REPLACE INTO snapshots (seq, created_at, checksum, data) VALUES (?, ?, ?, ?)');
    this.prune = db.prepare(
      `DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ${RETAINED})`,
    );
    this.selectSeqs = db.prepare('SELECT seq FROM snapshots ORDER BY seq DESC').pluck();
    this.deleteOne = db.prepare('DELETE FROM snapshots WHERE seq = ?');
    this.selectOne = db.prepare('SELECT seq, created_at, checksum, data FROM snapshots WHERE seq = ?');
    this.getMeta = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  }

  write(seq: number, data: unknown): void {
    if (!Number.isInteger(seq) || seq < 0 || seq > this.journal.lastSeq()) {
      throw new StoreError(
        'STORE_INVALID_ARGUMENT',
        `snapshot seq ${seq} must be an integer between 0 and the last journal seq ${this.journal.lastSeq()}`,
      );
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(data);
    } catch (err) {
      throw new StoreError('STORE_INVALID_ARGUMENT', 'snapshot data is not JSON-serialisable', { cause: err });
    }
    const json = text ?? 'null';
    this.db.transaction(() => {
      this.upsert.run(seq, Date.now(), checksum(json), json);
      // Damaged snapshots go first, so pruning never keeps a bad one over a good one.
      for (const old of this.selectSeqs.all() as number[]) {
        if (old !== seq && this.readVerified(old, false) === undefined) this.deleteOne.run(old);
      }
      this.prune.run();
    })();
  }

  loadLatest(): Snapshot | undefined {
    for (const seq of this.selectSeqs.all() as number[]) {
      const snapshot = this.readVerified(seq);
      if (snapshot !== undefined) return snapshot;
    }
    const compacted = this.compactedThrough();
    if (compacted > 0) {
      throw new StoreError(
        'STORE_CORRUPT',
        `no valid snapshot, and the journal was compacted through seq ${compacted}: the state cannot be rebuilt. Restore a backup.`,
      );
    }
    return undefined;
  }

  compact(): number {
    return this.db.transaction(() => {
      // Checksums only: a snapshot that matches the checksum written with it
      // parsed when it was made, and parsing 10 MB twice per snapshot stalls the engine.
      const valid = (this.selectSeqs.all() as number[]).filter((seq) => this.readVerified(seq, false) !== undefined);
      if (valid.length < RETAINED) return 0;
      const through = Math.min(...valid);
      if (through <= this.compactedThrough()) return 0;
      const deleted = this.journal.deleteThroughSeq(through);
      this.setMeta.run(COMPACTED_KEY, String(through));
      return deleted;
    })();
  }

  compactedThrough(): number {
    const value = this.getMeta.get(COMPACTED_KEY) as string | undefined;
    return value === undefined ? 0 : Number(value);
  }

  /** One row at a time, so damage in one snapshot's pages spares the other. */
  private readVerified(seq: number, parse = true): Snapshot | undefined {
    let row: SnapshotRow | undefined;
    try {
      row = this.selectOne.get(seq) as SnapshotRow | undefined;
    } catch (err) {
      this.logger.warn({ seq, err }, 'snapshot unreadable; falling back to an older snapshot');
      return undefined;
    }
    return row === undefined ? undefined : this.verify(row, parse);
  }

  private verify(row: SnapshotRow, parse: boolean): Snapshot | undefined {
    if (checksum(row.data) !== row.checksum) {
      this.logger.warn({ seq: row.seq }, 'snapshot checksum mismatch; falling back to an older snapshot');
      return undefined;
    }
    if (!parse) return { seq: row.seq, data: undefined, createdAt: row.created_at };
    try {
      return { seq: row.seq, data: JSON.parse(row.data), createdAt: row.created_at };
    } catch (err) {
      this.logger.warn({ seq: row.seq, err }, 'snapshot does not parse; falling back to an older snapshot');
      return undefined;
    }
  }
}

function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
