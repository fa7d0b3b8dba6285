import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceAgent } from '../src/agent.js';
import type { FakeSession } from './fake-session.js';
import { makeAssign, startFakeAgent, tempDir, waitFor } from './helpers.js';

describe('DeviceAgent runtime (fake session)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let agent: DeviceAgent;
  let session: FakeSession;

  async function startAgent(slots = 2, flushTimeoutMs = 500): Promise<void> {
    const opts = {
      name: 'test-device',
      labels: ['lab'],
      dataDir: path.join(tmp.dir, 'data'),
      slots,
      executor: { killGraceMs: 300, maxForwardBytes: 512 * 1024 },
      flushTimeoutMs,
    };
    agent = await startFakeAgent(opts, (s) => {
      session = s;
    });
  }

  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    await agent?.stop({ drain: false });
    tmp.cleanup();
  });

  it('connects with its capabilities, heartbeat and task reports', async () => {
    await startAgent(3);
    expect(session.started).toBe(true);
    expect(session.config.deviceName).toBe('test-device');
    expect(session.config.capabilities.slots).toBe(3);
    expect(session.config.capabilities.labels).toEqual(['lab']);
    expect(session.config.heartbeat?.()).toMatchObject({ running: 0, freeSlots: 3 });
    expect(session.config.taskReports?.()).toEqual([]);
  });

  it('accepts, streams logs and progress, then sends the result (durably until acked)', async () => {
    await startAgent();
    const a = makeAssign('echo "::progress 0.5 half"; echo out; echo err >&2', {
      outputs: [{ name: 'o', source: 'stdout', path: '' }],
    });
    session.deliver({ type: 'assign', value: a });
    await waitFor(() => session.of('result').length === 1);
    const types = session.sent.map((b) => b.type);
    expect(types[0]).toBe('accept');
    expect(types.at(-1)).toBe('result');
    expect(session.of('progress')).toEqual([
      { constellationId: 'c1', taskId: a.taskId, attempt: 1, fraction: 0.5, message: 'half' },
    ]);
    const logs = session.of('log');
    const text = (s: string) =>
      logs
        .filter((l) => l.stream === s)
        .map((l) => Buffer.from(l.data).toString())
        .join('');
    expect(text('STDOUT')).toBe('::progress 0.5 half\nout\n');
    expect(text('STDERR')).toBe('err\n');
    expect(text('SYSTEM')).toMatch(/^succeeded after [\d.]+ s \(exit code 0\)\n$/);
    const [r] = session.of('result');
    expect(r?.outcome).toBe('SUCCEEDED');
    expect(r?.outputs.o).toBe('::progress 0.5 half\nout');
    // Result and final system line wait in the outbox until acknowledged.
    expect(session.config.taskReports?.()).toEqual([
      { constellationId: 'c1', taskId: a.taskId, attempt: 1, state: 'finished' },
    ]);
    session.ackAll();
    expect(session.config.taskReports?.()).toEqual([]);
  });

  it('does not run a duplicate Assign twice and re-sends the result of a finished one', async () => {
    await startAgent();
    const a = makeAssign('sleep 0.3; echo once >> "$COUNT_FILE"');
    a.executor.env = { COUNT_FILE: path.join(tmp.dir, 'count') };
    session.deliver({ type: 'assign', value: a });
    session.deliver({ type: 'assign', value: a }); // replay while running
    await waitFor(() => session.of('result').length === 1);
    expect(session.of('accept')).toHaveLength(2);
    session.deliver({ type: 'assign', value: a }); // replay after it finished
    expect(session.of('result')).toHaveLength(2);
    expect(session.of('result')[1]).toEqual(session.of('result')[0]);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(path.join(tmp.dir, 'count'), 'utf8')).toBe('once\n');
  });

  it('rejects unsupported executors, missing commands and work beyond its slots', async () => {
    await startAgent(1);
    const unknown = makeAssign('x');
    unknown.executor.kind = 'teleport';
    session.deliver({ type: 'assign', value: unknown });
    session.deliver({ type: 'assign', value: makeAssign('') });
    const long = makeAssign('sleep 30');
    session.deliver({ type: 'assign', value: long });
    session.deliver({ type: 'assign', value: makeAssign('true') });
    expect(session.of('reject').map((r) => r.code)).toEqual(['UNSUPPORTED_EXECUTOR', 'BAD_ASSIGN', 'NO_FREE_SLOT']);
    expect(session.config.heartbeat?.()).toMatchObject({ running: 1, freeSlots: 0 });
    expect(session.config.taskReports?.()).toEqual([
      { constellationId: 'c1', taskId: long.taskId, attempt: 1, state: 'running' },
    ]);
  });

  it('cancels a running task by killing it', async () => {
    await startAgent();
    const a = makeAssign('sleep 30');
    session.deliver({ type: 'assign', value: a });
    session.deliver({ type: 'cancel', value: { constellationId: 'c1', taskId: a.taskId, attempt: 1, reason: 'user' } });
    await waitFor(() => session.of('result').length === 1);
    expect(session.of('result')[0]).toMatchObject({ outcome: 'CANCELLED', error: 'cancelled: user' });
    expect(agent.runningCount).toBe(0);
  });

  it('drains: rejects new work, finishes running work, flushes, then says goodbye', async () => {
    await startAgent(2, 60_000);
    const a = makeAssign('sleep 0.3; echo finished');
    session.deliver({ type: 'assign', value: a });
    session.deliver({ type: 'drain', value: { reason: 'maintenance' } });
    session.deliver({ type: 'assign', value: makeAssign('true') });
    expect(session.of('reject').map((r) => r.code)).toEqual(['DRAINING']);
    expect(session.config.heartbeat?.()).toMatchObject({ freeSlots: 0, running: 1 });
    const stopped = agent.stop({ drain: true });
    await waitFor(() => session.of('result').length === 1);
    expect(session.stoppedWith).toBeUndefined(); // still waiting for the ack
    session.ackAll();
    await stopped;
    expect(session.of('result')[0]?.outcome).toBe('SUCCEEDED');
    expect(session.stoppedWith).toBe('agent drained');
  });

  it('stop without drain kills running tasks and reports them INTERRUPTED', async () => {
    await startAgent();
    session.deliver({ type: 'assign', value: makeAssign('sleep 30') });
    await agent.stop({ drain: false });
    expect(session.of('result')[0]?.outcome).toBe('INTERRUPTED');
    expect(session.stoppedWith).toBe('agent stopped');
  });

  it('re-sends undelivered results after a restart', async () => {
    await startAgent();
    const a = makeAssign('echo hi');
    session.deliver({ type: 'assign', value: a });
    await waitFor(() => session.of('result').length === 1);
    await agent.stop({ drain: true }); // no ack: flush times out, outbox keeps them
    const first = session;
    await startAgent();
    expect(session).not.toBe(first);
    expect(session.sent.map((b) => b.type)).toEqual(['log', 'result']);
    expect(session.of('result')[0]).toEqual(first.of('result')[0]);
    session.ackAll();
    await agent.stop({ drain: true });
    await startAgent();
    expect(session.sent).toEqual([]);
  });

  it('caps a flood of output and keeps answering while it runs', async () => {
    await startAgent();
    const a = makeAssign('head -c 30000000 /dev/zero');
    session.deliver({ type: 'assign', value: a });
    let heartbeats = 0;
    const beat = setInterval(() => {
      if (session.config.heartbeat?.().running === 1) heartbeats += 1;
    }, 5);
    try {
      await waitFor(() => session.of('result').length === 1, 20_000);
    } finally {
      clearInterval(beat);
    }
    const logs = session.of('log');
    const forwarded = logs.filter((l) => l.stream !== 'SYSTEM').reduce((n, l) => n + l.data.length, 0);
    expect(forwarded).toBe(512 * 1024);
    const system = logs.filter((l) => l.stream === 'SYSTEM').map((l) => Buffer.from(l.data).toString());
    expect(system.filter((t) => t.startsWith('output truncated'))).toHaveLength(1);
    expect(session.of('result')[0]).toMatchObject({ outcome: 'SUCCEEDED', stdoutBytes: 30_000_000 });
    expect(heartbeats).toBeGreaterThan(0);
  });
});
