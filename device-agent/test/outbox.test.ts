import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Body } from '@orrery/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AttemptJournal } from '../src/attempt-journal.js';
import { Outbox } from '../src/outbox.js';
import { recoverInterrupted } from '../src/recovery.js';
import { resultKey } from '../src/task-keys.js';
import { tempDir } from './helpers.js';

const silent = pino({ level: 'silent' });

function result(taskId: string): Body {
  return {
    type: 'result',
    value: {
      constellationId: 'c',
      taskId,
      attempt: 1,
      outcome: 'SUCCEEDED',
      exitCode: 0,
      signal: '',
      outputs: { o: 'v' },
      error: '',
      startedAtMs: 1,
      endedAtMs: 2,
      stdoutBytes: 0,
      stderrBytes: 0,
    },
  };
}

describe('Outbox', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('keeps put items across a crash (object dropped, reopened) in put order', () => {
    const dir = path.join(tmp.dir, 'outbox');
    let box: Outbox | undefined = new Outbox(dir);
    box.put('b', result('b'));
    box.put('a', result('a'));
    const log: Body = { type: 'log', value: { constellationId: 'c', taskId: 'x', attempt: 1, stream: 'SYSTEM', data: new Uint8Array([104, 105, 0, 255]), offset: 7 } };
    box.put('log', log);
    box = undefined; // "crash": no close, no flush call
    const reopened = new Outbox(dir);
    const pending = reopened.pending();
    expect(pending.map((p) => p.key)).toEqual(['b', 'a', 'log']);
    expect(pending[0]?.body).toEqual(result('b'));
    // Binary log data survives the JSON round trip byte for byte.
    expect(pending[2]?.body).toEqual(log);
  });

  it('makes remove durable and ignores interrupted temp writes', () => {
    const dir = path.join(tmp.dir, 'outbox');
    const box = new Outbox(dir);
    box.put('a', result('a'));
    box.put('b', result('b'));
    expect(box.remove('a')).toBe(true);
    expect(box.remove('a')).toBe(false);
    // A write that crashed before its rename leaves only a temp file.
    writeFileSync(path.join(dir, '.half.123.1.tmp'), '{"key":"half"');
    const reopened = new Outbox(dir);
    expect(reopened.pending().map((p) => p.key)).toEqual(['b']);
    expect(readdirSync(dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });

  it('replaces an item put twice under the same key, keeping its place', () => {
    const dir = path.join(tmp.dir, 'outbox');
    const box = new Outbox(dir);
    box.put('a', result('a'));
    box.put('b', result('b'));
    box.put('a', result('a2'));
    const reopened = new Outbox(dir);
    expect(reopened.pending().map((p) => p.key)).toEqual(['a', 'b']);
    expect(reopened.get('a')).toEqual(result('a2'));
    // New items after a restart still sort after old ones.
    reopened.put('c', result('c'));
    expect(new Outbox(dir).pending().map((p) => p.key)).toEqual(['a', 'b', 'c']);
  });

  it('keys with odd characters never escape the directory', () => {
    const dir = path.join(tmp.dir, 'outbox');
    const box = new Outbox(dir);
    box.put('../../etc/passwd', result('x'));
    expect(readdirSync(dir)).toHaveLength(1);
    expect(new Outbox(dir).has('../../etc/passwd')).toBe(true);
  });
});

describe('interrupted attempts', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('reports an attempt left in the journal as INTERRUPTED exactly once', () => {
    const ref = { constellationId: 'c', taskId: 't', attempt: 3 };
    new AttemptJournal(path.join(tmp.dir, 'running')).record({ ...ref, startedAtMs: 1000, pid: 0 });
    // First restart: reported.
    const box1 = new Outbox(path.join(tmp.dir, 'outbox'));
    const j1 = new AttemptJournal(path.join(tmp.dir, 'running'));
    expect(recoverInterrupted(j1, box1, silent)).toEqual(['c/t/3']);
    const body = box1.get(resultKey(ref));
    expect(body?.type).toBe('result');
    if (body?.type === 'result') {
      expect(body.value.outcome).toBe('INTERRUPTED');
      expect(body.value.attempt).toBe(3);
      expect(body.value.startedAtMs).toBe(1000);
    }
    // Second restart: nothing new, and the undelivered result is still pending once.
    const box2 = new Outbox(path.join(tmp.dir, 'outbox'));
    const j2 = new AttemptJournal(path.join(tmp.dir, 'running'));
    expect(recoverInterrupted(j2, box2, silent)).toEqual([]);
    expect(box2.pending()).toHaveLength(1);
  });

  it('does not report INTERRUPTED when the real result reached the outbox before the crash', () => {
    const ref = { constellationId: 'c', taskId: 't', attempt: 1 };
    const journal = new AttemptJournal(path.join(tmp.dir, 'running'));
    const box = new Outbox(path.join(tmp.dir, 'outbox'));
    journal.record({ ...ref, startedAtMs: 1, pid: 0 });
    box.put(resultKey(ref), result('t'));
    // crash before journal.remove
    const box2 = new Outbox(path.join(tmp.dir, 'outbox'));
    expect(recoverInterrupted(new AttemptJournal(path.join(tmp.dir, 'running')), box2, silent)).toEqual([]);
    expect(box2.get(resultKey(ref))).toEqual(result('t'));
    expect(new AttemptJournal(path.join(tmp.dir, 'running')).list()).toEqual([]);
  });
});
