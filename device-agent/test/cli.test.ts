// The built CLI against a real AIP server on loopback (protocol package):
// enrollment, Hello contents, one task end to end, drain on SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AipServer, type Body, type Result, type ServerSession } from '@orrery/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDataDir } from '../src/cli.js';
import { makeAssign, tempDir, waitFor } from './helpers.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'orrery-agent.js');

describe('orrery-agent CLI with a real AIP server', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: AipServer;
  let port: number;
  let child: ChildProcess | undefined;
  const sessions: ServerSession[] = [];

  beforeEach(async () => {
    tmp = tempDir();
    sessions.length = 0;
    server = new AipServer({
      heartbeatIntervalMs: 200,
      authenticate: (hello) =>
        hello.credential === 'secret-1' ? { ok: true, deviceId: hello.deviceId } : { ok: false, code: 'AIP_UNAUTHENTICATED', message: 'bad credential' },
      enroll: (e) =>
        e.token === 'tok-123'
          ? { ok: true, enrolled: { deviceId: 'dev-42', credential: 'secret-1', labels: [] } }
          : { ok: false, code: 'AIP_UNAUTHENTICATED', message: 'bad token' },
    });
    server.on('session', (s) => sessions.push(s));
    port = await server.listenWebSocket('127.0.0.1', 0);
  });

  afterEach(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));
    }
    child = undefined;
    await server.close();
    tmp.cleanup();
  });

  it('enrolls, runs a task, and drains on SIGTERM', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    child = spawn(
      process.execPath,
      [bin, '--server', `ws://127.0.0.1:${port}/v1/aip`, '--name', 'cli-dev', '--labels', 'a,b', '--slots', '3', '--data-dir', dataDir, '--token', 'tok-123', '--log-level', 'warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let logs = '';
    child.stdout?.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      logs += d.toString();
    });
    await waitFor(() => sessions.length === 1, 10_000);
    const session = sessions[0]!;
    expect(session.deviceId).toBe('dev-42');
    expect(session.hello.deviceName).toBe('cli-dev');
    expect(session.hello.capabilities.labels).toEqual(['a', 'b']);
    expect(session.hello.capabilities.slots).toBe(3);
    expect(session.hello.capabilities.executors).toEqual(expect.arrayContaining(['shell', 'http', 'mcp']));
    const creds = path.join(dataDir, 'credentials.json');
    expect(JSON.parse(readFileSync(creds, 'utf8'))).toEqual({ deviceId: 'dev-42', credential: 'secret-1' });
    expect(statSync(creds).mode & 0o777).toBe(0o600);

    const received: Body[] = [];
    session.on('message', (b) => received.push(b));
    const assign = makeAssign('sleep 0.5; echo \'{"v":7}\'', { outputs: [{ name: 'v', source: 'json', path: 'v' }] });
    session.send({ type: 'assign', value: assign });
    await waitFor(() => received.some((b) => b.type === 'accept'), 10_000);
    // SIGTERM while the task runs: the agent drains, so the task still finishes.
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code, logs).toBe(0);
    const result = received.find((b) => b.type === 'result')?.value as Result | undefined;
    expect(result).toMatchObject({ taskId: assign.taskId, outcome: 'SUCCEEDED', outputs: { v: '7' } });
  });

  it('a second SIGTERM kills running tasks, reported INTERRUPTED, and exits', async () => {
    const dataDir = path.join(tmp.dir, 'data3');
    // Already enrolled: credentials on disk.
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'credentials.json'), JSON.stringify({ deviceId: 'dev-7', credential: 'secret-1' }), { mode: 0o600 });
    child = spawn(process.execPath, [bin, '--server', `ws://127.0.0.1:${port}/v1/aip`, '--data-dir', dataDir, '--log-level', 'silent'], {
      stdio: 'ignore',
    });
    await waitFor(() => sessions.length === 1, 10_000);
    const session = sessions[0]!;
    expect(session.deviceId).toBe('dev-7');
    const received: Body[] = [];
    session.on('message', (b) => received.push(b));
    const assign = makeAssign('sleep 30');
    session.send({ type: 'assign', value: assign });
    await waitFor(() => received.some((b) => b.type === 'accept'), 10_000);
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect(child.exitCode).toBeNull(); // draining: waits for the task
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    const result = received.find((b) => b.type === 'result')?.value as Result | undefined;
    expect(result).toMatchObject({ taskId: assign.taskId, outcome: 'INTERRUPTED' });
  });

  it('exits with code 2 when the orchestrator refuses its credential', async () => {
    const dataDir = path.join(tmp.dir, 'data2');
    child = spawn(process.execPath, [bin, '--server', `ws://127.0.0.1:${port}/v1/aip`, '--data-dir', dataDir, '--log-level', 'silent'], {
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(2);
  });

  it('prints a service file with --print', async () => {
    child = spawn(process.execPath, [bin, 'install', '--server', 'ws://h:1', '--platform', 'darwin', '--print', '--data-dir', '/d'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(out).toContain('<string>dev.orrery.agent</string>');
    expect(out).toContain('server: ws://h:1\n');
    expect(out).toContain('<string>--config</string>');
  });

  it('picks a per-user data dir by platform', () => {
    expect(defaultDataDir({ ORRERY_AGENT_DATA_DIR: '/x' })).toBe('/x');
    expect(defaultDataDir({ XDG_STATE_HOME: '/s' }, 'linux')).toBe('/s/orrery-agent');
    expect(defaultDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/orrery-agent$/);
  });
});
