// stopAfterDisconnectMs: out of contact longer than that, the agent kills its
// running tasks and reports them INTERRUPTED once it is back; a reconnection
// in time keeps them running. With the option off nothing is killed.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Welcome } from '@orrery/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceAgent } from '../src/agent.js';
import type { DeviceAgentOptions } from '../src/agent-options.js';
import { runAgentCli } from '../src/cli.js';
import { contactLostAt, DisconnectLease } from '../src/disconnect-lease.js';
import type { FakeSession } from './fake-session.js';
import { makeAssign, startFakeAgent, tempDir, waitFor } from './helpers.js';

describe('contactLostAt', () => {
  it('counts from the last frame when the session noticed silence, else from now', () => {
    expect(contactLostAt('orchestrator silent for 1500 ms', 10_000)).toBe(8_500);
    expect(contactLostAt('socket closed', 10_000)).toBe(10_000);
  });
});

describe('--stop-after-disconnect', () => {
  it('refuses a value that is not a positive number of milliseconds', async () => {
    const stderr = process.stderr.write;
    process.stderr.write = () => true; // commander prints the usage error
    try {
      expect(await runAgentCli(['--server', 'ws://127.0.0.1:1/v1/aip', '--stop-after-disconnect', 'soon'])).not.toBe(0);
      expect(await runAgentCli(['--server', 'ws://127.0.0.1:1/v1/aip', '--reconnect-max-ms', '0'])).not.toBe(0);
    } finally {
      process.stderr.write = stderr;
    }
  });
});

describe('DisconnectLease', () => {
  it('expires once per disconnection and is reset by a reconnection', async () => {
    const expired: number[] = [];
    const lease = new DisconnectLease(30, (ms) => expired.push(ms));
    lease.disconnected('closed');
    lease.disconnected('closed again'); // keeps the first time
    await waitFor(() => expired.length === 1);
    lease.connected();
    expect(lease.disconnectedSince).toBeUndefined();
    lease.disconnected('closed');
    lease.connected(); // back in time: nothing happens
    await new Promise((r) => setTimeout(r, 80));
    expect(expired).toHaveLength(1);
  });
});

describe('DeviceAgent with stopAfterDisconnectMs', () => {
  let tmp: ReturnType<typeof tempDir>;
  let agent: DeviceAgent | undefined;
  let session: FakeSession;

  async function start(extra: Partial<DeviceAgentOptions>): Promise<void> {
    const opts = {
      name: 'lease-device',
      dataDir: path.join(tmp.dir, 'data'),
      executor: { killGraceMs: 200 },
      ...extra,
    };
    agent = await startFakeAgent(opts, (s) => {
      session = s;
    });
    await new Promise((r) => setImmediate(r)); // the fake's Welcome
  }

  beforeEach(() => {
    tmp = tempDir('orrery-lease-');
  });
  afterEach(async () => {
    await agent?.stop({ drain: false });
    agent = undefined;
    tmp.cleanup();
  });

  it('kills tasks after the limit and reports them INTERRUPTED, with no side effect', async () => {
    await start({ stopAfterDisconnectMs: 150 });
    const effect = path.join(tmp.dir, 'effect');
    const a = makeAssign(`sleep 20; echo done > ${effect}`);
    session.deliver({ type: 'assign', value: a });
    await waitFor(() => agent?.runningCount === 1);
    session.emit('disconnect', 'socket closed');
    await waitFor(() => session.of('result').length === 1, 10_000);
    const [result] = session.of('result');
    expect(result?.outcome).toBe('INTERRUPTED');
    expect(result?.error).toContain('stop-after-disconnect 150 ms');
    expect(agent?.runningCount).toBe(0);
    expect(existsSync(effect)).toBe(false);
    // The Result waits in the outbox and is reported in the next Hello.
    expect(session.config.taskReports?.()).toEqual([
      { constellationId: 'c1', taskId: a.taskId, attempt: 1, state: 'interrupted' },
    ]);
  });

  it('keeps tasks running when the connection is back in time', async () => {
    await start({ stopAfterDisconnectMs: 300 });
    const a = makeAssign('sleep 1; echo ok');
    session.deliver({ type: 'assign', value: a });
    await waitFor(() => agent?.runningCount === 1);
    session.emit('disconnect', 'socket closed');
    const welcome: Welcome = {
      protocolVersion: 1,
      sessionId: 's1',
      deviceId: 'dev-1',
      resumeAck: 0,
      resumed: true,
      heartbeatIntervalMs: 1000,
      leaseMs: 3000,
      maxFrameBytes: 4 << 20,
    };
    session.emit('welcome', welcome);
    await waitFor(() => session.of('result').length === 1, 10_000);
    expect(session.of('result')[0]?.outcome).toBe('SUCCEEDED');
  });

  it('keeps tasks running through any disconnection when the option is off', async () => {
    await start({});
    const a = makeAssign('sleep 0.5; echo ok');
    session.deliver({ type: 'assign', value: a });
    await waitFor(() => agent?.runningCount === 1);
    session.emit('disconnect', 'orchestrator silent for 60000 ms');
    await waitFor(() => session.of('result').length === 1, 10_000);
    expect(session.of('result')[0]?.outcome).toBe('SUCCEEDED');
  });
});
