import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LogChunk, type LogRecord, type SqliteStore, openSqliteStore } from '../src/store/index.js';

let dataDir: string;
let store: SqliteStore;
const CAP = 1000; // head budget: 250 bytes, tail: the rest

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-logs-'));
  store = openSqliteStore({ dataDir, logCapBytes: CAP });
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Chunks of 100 bytes: chunk i is the digit (i % 10) repeated. */
function chunks(count: number, attempt = 1, stream = 'stdout'): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    constellationId: 'c',
    taskId: 't',
    attempt,
    stream,
    offset: i * 100,
    data: String(i % 10).repeat(100),
  }));
}

function readAll(attempt?: number): LogChunk[] {
  const out: LogChunk[] = [];
  let afterId = 0;
  for (let page = 0; page < 100; page++) {
    const got = store.readLogs('c', 't', { attempt, afterId, limit: 3 });
    out.push(...got);
    const last = got[got.length - 1];
    if (last === undefined) break;
    afterId = last.id;
  }
  return out;
}

describe('task logs', () => {
  it('stores and pages chunks in order, filtered by attempt', () => {
    store.appendLogs([...chunks(4, 1), ...chunks(2, 2, 'stderr')]);
    expect(readAll(1).map((c) => c.offset)).toEqual([0, 100, 200, 300]);
    expect(readAll(2).map((c) => c.stream)).toEqual(['stderr', 'stderr']);
    expect(readAll()).toHaveLength(6);
    expect(readAll(1)[1]?.data.toString()).toBe('1'.repeat(100));
    expect(store.logUsage('c', 't', 1)).toEqual({ storedBytes: 400, droppedBytes: 0 });
    expect(store.readLogs('c', 'other')).toEqual([]);
  });

  it('keeps the head and a rolling tail within the per-attempt cap, marking the gap', () => {
    store.appendLogs(chunks(30)); // 3000 bytes into a 1000-byte cap
    store.appendLogs(chunks(5, 2)); // another attempt is unaffected
    const kept = readAll(1);
    const total = kept.reduce((n, c) => n + c.data.length, 0);
    expect(total).toBeLessThanOrEqual(CAP);
    // Head: the first two 100-byte chunks fit the 250-byte head budget.
    expect(kept.slice(0, 2).map((c) => c.offset)).toEqual([0, 100]);
    // Tail: the newest chunks, ending with the last one written.
    expect(kept[kept.length - 1]?.offset).toBe(2900);
    const gapAt = kept.findIndex((c) => c.droppedBefore > 0);
    expect(gapAt).toBe(2);
    const firstTail = kept[gapAt] as LogChunk;
    // The marker says exactly how many bytes are missing before this chunk.
    expect(firstTail.droppedBefore).toBe(firstTail.offset - 200);
    const usage = store.logUsage('c', 't', 1);
    expect(usage.storedBytes).toBe(total);
    expect(usage.storedBytes + usage.droppedBytes).toBe(3000);
    expect(readAll(2)).toHaveLength(5);
  });

  it('keeps the end of a chunk larger than the whole tail budget', () => {
    store.appendLogs(chunks(1));
    const big = `${'a'.repeat(5000)}THE-END`;
    store.appendLogs([{ constellationId: 'c', taskId: 't', attempt: 1, stream: 'stdout', offset: 100, data: big }]);
    const kept = readAll(1);
    expect(kept).toHaveLength(2);
    const tail = kept[1] as LogChunk;
    expect(tail.data.length).toBe(CAP - 100);
    expect(tail.data.toString().endsWith('THE-END')).toBe(true);
    expect(tail.offset + tail.data.length).toBe(100 + big.length);
    expect(tail.droppedBefore).toBe(big.length - (CAP - 100));
  });

  it('deletes the logs of one constellation for retention', () => {
    store.appendLogs([...chunks(3), { ...chunks(1)[0]!, constellationId: 'other' }]);
    expect(store.deleteLogs('c')).toBe(3);
    expect(store.readLogs('c', 't')).toEqual([]);
    expect(store.logUsage('c', 't', 1)).toEqual({ storedBytes: 0, droppedBytes: 0 });
    expect(store.readLogs('other', 't')).toHaveLength(1);
  });

  it('accepts Buffers and keeps binary data intact', () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    store.appendLogs([{ constellationId: 'c', taskId: 't', attempt: 3, stream: 'stdout', offset: 0, data: bytes }]);
    expect(store.readLogs('c', 't', { attempt: 3 })[0]?.data.equals(bytes)).toBe(true);
  });

  it('holds the default 2 MiB cap across many appends', () => {
    store.close();
    store = openSqliteStore({ dataDir });
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 48; i++) {
      store.appendLogs([{ constellationId: 'c', taskId: 'big', attempt: 1, stream: 'stdout', offset: i * chunk.length, data: chunk }]);
    }
    const usage = store.logUsage('c', 'big', 1);
    expect(usage.storedBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(usage.storedBytes + usage.droppedBytes).toBe(48 * chunk.length);
  });
});

describe('task log cap (property)', () => {
  it('keeps an exact prefix and suffix of the output, with exact gap sizes, within the cap', () => {
    // One store per cap, one constellation per run: opening a store per run is slow.
    const caps = [4, 7, 100, 999, 2500];
    const stores = caps.map((cap, i) => openSqliteStore({ dataDir: join(dataDir, `cap${i}`), logCapBytes: cap }));
    let run = 0;
    try {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: caps.length - 1 }),
          fc.array(fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 6 }), {
            minLength: 1,
            maxLength: 25,
          }),
          (capIndex, batches) => {
            const s = stores[capIndex] as SqliteStore;
            const cap = caps[capIndex] as number;
            const c = `run${run++}`;
            const written: Buffer[] = [];
            let offset = 0;
            for (const sizes of batches) {
              const records = sizes.map((size) => {
                // Distinct bytes per position so a misplaced chunk cannot match by accident.
                const data = Buffer.from(Array.from({ length: size }, (_, k) => (offset + k) % 251));
                written.push(data);
                const record = { constellationId: c, taskId: 't', attempt: 1, stream: 'stdout', offset, data };
                offset += size;
                return record;
              });
              s.appendLogs(records);
            }
            const all = Buffer.concat(written);
            const kept = s.readLogs(c, 't', { attempt: 1, limit: 100_000 });
            let position = 0;
            let stored = 0;
            for (const chunk of kept) {
              position += chunk.droppedBefore;
              expect(chunk.offset).toBe(position);
              expect(chunk.data.equals(all.subarray(position, position + chunk.data.length))).toBe(true);
              position += chunk.data.length;
              stored += chunk.data.length;
            }
            expect(position).toBe(all.length); // the newest bytes are always kept
            expect(stored).toBeLessThanOrEqual(cap);
            expect(s.logUsage(c, 't', 1)).toEqual({ storedBytes: stored, droppedBytes: all.length - stored });
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      for (const s of stores) s.close();
    }
  });
});
