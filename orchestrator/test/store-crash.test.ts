// SIGKILL in the middle of group commits: after a reopen every batch is
// either entirely present or entirely absent, and seqs have no gaps.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The child runs plain node, so it needs the store as JavaScript.
import { buildStore } from '../../scripts/bench/journal-store-loader.mjs';
import { type SqliteStore, openSqliteStore } from '../src/store/index.js';

let dataDir: string;
let child: ChildProcess | undefined;
let store: SqliteStore | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-crash-'));
});

afterEach(() => {
  store?.close();
  store = undefined;
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

const writerScript = (storeUrl: string) => `
import { openSqliteStore } from ${JSON.stringify(storeUrl)};
const store = openSqliteStore({ dataDir: process.argv[2] });
let batch = 0;
for (;;) {
  const size = 1 + ((batch * 37) % 200);
  const events = [];
  for (let i = 0; i < size; i++) {
    events.push({ type: 'step', constellationId: 'c' + (batch % 4), at: Date.now(), data: { batch, i, size, pad: 'z'.repeat(64) } });
  }
  store.appendEvents(events);
  if (batch % 50 === 0) store.writeSnapshot(store.lastSeq(), { batch });
  if (batch === 50) process.stdout.write('warm\\n');
  batch++;
}
`;

function waitForLine(proc: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" from the writer within ${timeoutMs} ms`)), timeoutMs);
    proc.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`writer exited early with ${code}`));
    });
  });
}

describe('crash safety', () => {
  it('keeps whole batches only after SIGKILL mid-append', async () => {
    const script = join(dataDir, 'writer.mjs');
    writeFileSync(script, writerScript(pathToFileURL(buildStore()).href));
    const dbDir = join(dataDir, 'db');
    for (let round = 0; round < 3; round++) {
      const proc = spawn(process.execPath, [script, dbDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      child = proc;
      await waitForLine(proc, 'warm', 30_000);
      if (round === 0) {
        // While the writer lives, nobody else may own the directory.
        expect(() => openSqliteStore({ dataDir: dbDir })).toThrowError(expect.objectContaining({ code: 'STORE_BUSY' }));
      }
      // Let it run on a little so the kill lands at an arbitrary point.
      await new Promise((r) => setTimeout(r, 20 + round * 30));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    child = undefined;

    store = openSqliteStore({ dataDir: dbDir });
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const bySizeAndBatch = new Map<string, number[]>();
    let expectedSeq = 1;
    for (const event of store.iterateEvents(0, 5000)) {
      expect(event.seq).toBe(expectedSeq++);
      const { batch, i, size } = event.data as { batch: number; i: number; size: number };
      // Each child run restarts its batch counter; seq ranges keep runs apart.
      const key = `${batch}/${size}/${event.seq - i}`;
      const seen = bySizeAndBatch.get(key) ?? [];
      seen.push(i);
      bySizeAndBatch.set(key, seen);
    }
    expect(store.lastSeq()).toBe(expectedSeq - 1);
    expect(bySizeAndBatch.size).toBeGreaterThan(150);
    for (const [key, indexes] of bySizeAndBatch) {
      const size = Number(key.split('/')[1]);
      expect(indexes, `batch ${key}`).toEqual(Array.from({ length: size }, (_, i) => i));
    }
    const snapshot = store.loadLatestSnapshot();
    expect(snapshot).toBeDefined();
    expect(snapshot?.seq).toBeLessThanOrEqual(store.lastSeq());
    // And the store is writable after the crashes.
    const last = store.lastSeq();
    expect(store.appendEvents([{ type: 'after', at: 1, data: {} }])).toBe(last + 1);
  });
});
