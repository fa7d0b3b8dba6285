// The event journal: append-only, one transaction per batch (group commit).
import type { Database, Statement } from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { EventQuery, JournalEvent, NewEvent } from './store.js';

interface EventRow {
  seq: number;
  type: string;
  constellation_id: string | null;
  at: number;
  data: string;
}

const DEFAULT_LIMIT = 1000;

export class SqliteJournal {
  private readonly insert: Statement;
  private readonly selectAfter: Statement;
  private readonly selectLastSeq: Statement;
  private readonly deleteThrough: Statement;
  private readonly listCache = new Map<string, Statement>();
  private readonly appendBatch: (rows: readonly [string, string | null, number, string][]) => number;

  constructor(private readonly db: Database) {
    this.insert = db.prepare('INSERT INTO events (type, constellation_id, at, data) VALUES (?, ?, ?, ?)');
    this.selectAfter = db.prepare('SELECT seq, type, constellation_id, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.selectLastSeq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").pluck();
    this.deleteThrough = db.prepare('DELETE FROM events WHERE seq <= ?');
    this.appendBatch = db.transaction((rows: readonly [string, string | null, number, string][]) => {
      let last = 0;
      for (const row of rows) last = Number(this.insert.run(row).lastInsertRowid);
      return last;
    });
  }

  append(events: readonly NewEvent[]): number {
    if (events.length === 0) return this.lastSeq();
    // Serialise everything before the transaction opens: a bad event rejects
    // the whole batch without touching the database.
    const rows = events.map((event, index) => toRow(event, index));
    return this.appendBatch(rows);
  }

  read(afterSeq: number, limit = DEFAULT_LIMIT): JournalEvent[] {
    return (this.selectAfter.all(afterSeq, limit) as EventRow[]).map(fromRow);
  }

  list(query: EventQuery): JournalEvent[] {
    const types = query.types ?? [];
    const hasConstellation = query.constellationId !== undefined;
    const key = `${hasConstellation ? 'c' : ''}:${types.length}`;
    let statement = this.listCache.get(key);
    if (statement === undefined) {
      const where = ['seq > ?'];
      if (hasConstellation) where.push('constellation_id = ?');
      if (types.length > 0) where.push(`type IN (${types.map(() => '?').join(', ')})`);
      statement = this.db.prepare(
        `SELECT seq, type, constellation_id, at, data FROM events WHERE ${where.join(' AND ')} ORDER BY seq LIMIT ?`,
      );
      this.listCache.set(key, statement);
    }
    const params: unknown[] = [query.afterSeq ?? 0];
    if (hasConstellation) params.push(query.constellationId);
    params.push(...types, query.limit ?? DEFAULT_LIMIT);
    return (statement.all(...params) as EventRow[]).map(fromRow);
  }

  lastSeq(): number {
    return (this.selectLastSeq.get() as number | undefined) ?? 0;
  }

  /** Delete events with seq <= through (call inside a transaction). */
  deleteThroughSeq(through: number): number {
    return this.deleteThrough.run(through).changes;
  }
}

function toRow(event: NewEvent, index: number): [string, string | null, number, string] {
  if (typeof event.type !== 'string' || event.type === '') {
    throw new StoreError('STORE_INVALID_ARGUMENT', `event #${index} has no type; nothing from this batch was stored`);
  }
  if (!Number.isFinite(event.at)) {
    throw new StoreError('STORE_INVALID_ARGUMENT', `event #${index} (${event.type}) has no valid 'at'; nothing stored`);
  }
  let data: string | undefined;
  try {
    data = JSON.stringify(event.data);
  } catch (err) {
    throw new StoreError(
      'STORE_INVALID_ARGUMENT',
      `event #${index} (${event.type}) is not JSON-serialisable; nothing from this batch was stored`,
      { cause: err },
    );
  }
  return [event.type, event.constellationId ?? null, Math.trunc(event.at), data ?? 'null'];
}

function fromRow(row: EventRow): JournalEvent {
  const event: JournalEvent = { seq: row.seq, type: row.type, at: row.at, data: JSON.parse(row.data) };
  if (row.constellation_id !== null) event.constellationId = row.constellation_id;
  return event;
}
