// Bounded task logs. Each attempt keeps at most `capBytes` of output (all
// streams together): the first quarter of the cap as a fixed head (how the
// task started), the rest as a rolling tail (how it ended). When the tail
// overflows, its oldest chunks are deleted and the number of bytes dropped is
// recorded on the oldest surviving tail chunk (`droppedBefore`), so a reader
// can show exactly where the gap is. Chunks are stored whole, except one chunk
// larger than the whole tail budget, which keeps only its last bytes.
import type { Database, Statement } from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { LogChunk, LogQuery, LogRecord, LogUsage } from './store.js';

export const DEFAULT_LOG_CAP_BYTES = 2 * 1024 * 1024;
const DEFAULT_LIMIT = 1000;

interface UsageRow {
  head_bytes: number;
  head_closed: number;
  stored_bytes: number;
  dropped_bytes: number;
}

interface ChunkRow {
  id: number;
  constellation_id: string;
  task_id: string;
  attempt: number;
  stream: string;
  offset: number;
  at: number;
  dropped_before: number;
  data: Buffer;
}

const CHUNK_COLUMNS = 'id, constellation_id, task_id, attempt, stream, offset, at, dropped_before, data';

export class SqliteLogs {
  private readonly headBudget: number;
  private readonly getUsage: Statement;
  private readonly putUsage: Statement;
  private readonly insert: Statement;
  private readonly oldestTail: Statement;
  private readonly deleteChunk: Statement;
  private readonly addDropped: Statement;
  private readonly selectAttempt: Statement;
  private readonly selectAll: Statement;
  private readonly deleteLogsOf: Statement;
  private readonly deleteUsageOf: Statement;
  private readonly appendBatch: (records: readonly LogRecord[]) => void;
  private readonly removeAll: (constellationId: string) => number;

  constructor(
    db: Database,
    private readonly capBytes: number = DEFAULT_LOG_CAP_BYTES,
  ) {
    if (!Number.isInteger(capBytes) || capBytes < 4) {
      throw new StoreError('STORE_INVALID_ARGUMENT', `log cap must be an integer >= 4 bytes, got ${capBytes}`);
    }
    this.headBudget = Math.floor(capBytes / 4);
    const attemptKey = 'constellation_id = ? AND task_id = ? AND attempt = ?';
    this.getUsage = db.prepare(
      `SELECT head_bytes, head_closed, stored_bytes, dropped_bytes FROM log_usage WHERE ${attemptKey}`,
    );
    this.putUsage = db.prepare(
      'INSERT OR REPLACE INTO log_usage (constellation_id, task_id, attempt, head_bytes, head_closed, stored_bytes, dropped_bytes) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.insert = db.prepare(
      'INSERT INTO task_logs (constellation_id, task_id, attempt, stream, offset, at, head, dropped_before, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.oldestTail = db.prepare(
      `SELECT id, length(data) AS len, dropped_before FROM task_logs WHERE ${attemptKey} AND head = 0 ORDER BY id LIMIT 1`,
    );
    this.deleteChunk = db.prepare('DELETE FROM task_logs WHERE id = ?');
    this.addDropped = db.prepare('UPDATE task_logs SET dropped_before = dropped_before + ? WHERE id = ?');
    this.selectAttempt = db.prepare(
      `SELECT ${CHUNK_COLUMNS} FROM task_logs WHERE ${attemptKey} AND id > ? ORDER BY id LIMIT ?`,
    );
    this.selectAll = db.prepare(
      `SELECT ${CHUNK_COLUMNS} FROM task_logs WHERE constellation_id = ? AND task_id = ? AND id > ? ORDER BY id LIMIT ?`,
    );
    this.deleteLogsOf = db.prepare('DELETE FROM task_logs WHERE constellation_id = ?');
    this.deleteUsageOf = db.prepare('DELETE FROM log_usage WHERE constellation_id = ?');
    this.removeAll = db.transaction((constellationId: string) => {
      this.deleteUsageOf.run(constellationId);
      return this.deleteLogsOf.run(constellationId).changes;
    });
    this.appendBatch = db.transaction((records: readonly LogRecord[]) => {
      for (const record of records) this.appendOne(record);
    });
  }

  append(records: readonly LogRecord[]): void {
    if (records.length > 0) this.appendBatch(records);
  }

  read(constellationId: string, taskId: string, query: LogQuery = {}): LogChunk[] {
    const afterId = query.afterId ?? 0;
    const limit = query.limit ?? DEFAULT_LIMIT;
    const rows =
      query.attempt === undefined
        ? this.selectAll.all(constellationId, taskId, afterId, limit)
        : this.selectAttempt.all(constellationId, taskId, query.attempt, afterId, limit);
    return (rows as ChunkRow[]).map((row) => ({
      id: row.id,
      constellationId: row.constellation_id,
      taskId: row.task_id,
      attempt: row.attempt,
      stream: row.stream,
      offset: row.offset,
      data: row.data,
      at: row.at,
      droppedBefore: row.dropped_before,
    }));
  }

  /** Drop every log chunk of a constellation (retention); returns chunks deleted. */
  deleteFor(constellationId: string): number {
    return this.removeAll(constellationId);
  }

  usage(constellationId: string, taskId: string, attempt: number): LogUsage {
    const row = this.getUsage.get(constellationId, taskId, attempt) as UsageRow | undefined;
    return { storedBytes: row?.stored_bytes ?? 0, droppedBytes: row?.dropped_bytes ?? 0 };
  }

  private appendOne(record: LogRecord): void {
    const { constellationId: c, taskId: t, attempt: a } = record;
    let data = typeof record.data === 'string' ? Buffer.from(record.data, 'utf8') : record.data;
    if (data.length === 0) return;
    const usage = (this.getUsage.get(c, t, a) as UsageRow | undefined) ?? {
      head_bytes: 0,
      head_closed: 0,
      stored_bytes: 0,
      dropped_bytes: 0,
    };
    const isHead = usage.head_closed === 0 && usage.head_bytes + data.length <= this.headBudget;
    let offset = record.offset;
    let droppedBefore = 0;
    if (!isHead) {
      usage.head_closed = 1;
      const tailBudget = this.capBytes - usage.head_bytes;
      if (data.length > tailBudget) {
        // Keep the end of an oversized chunk: the end is what explains a failure.
        droppedBefore = data.length - tailBudget;
        data = data.subarray(droppedBefore);
        offset += droppedBefore;
        usage.dropped_bytes += droppedBefore;
      }
    }
    this.insert.run(c, t, a, record.stream, offset, record.at ?? Date.now(), isHead ? 1 : 0, droppedBefore, data);
    usage.stored_bytes += data.length;
    if (isHead) usage.head_bytes += data.length;

    // Roll the tail: the chunk just inserted fits the tail budget on its own,
    // so this loop stops before reaching it.
    let carried = 0;
    while (usage.stored_bytes > this.capBytes) {
      const oldest = this.oldestTail.get(c, t, a) as { id: number; len: number; dropped_before: number } | undefined;
      if (oldest === undefined) break;
      this.deleteChunk.run(oldest.id);
      usage.stored_bytes -= oldest.len;
      usage.dropped_bytes += oldest.len;
      carried += oldest.dropped_before + oldest.len;
    }
    if (carried > 0) {
      const next = this.oldestTail.get(c, t, a) as { id: number } | undefined;
      if (next !== undefined) this.addDropped.run(carried, next.id);
    }
    this.putUsage.run(c, t, a, usage.head_bytes, usage.head_closed, usage.stored_bytes, usage.dropped_bytes);
  }
}
