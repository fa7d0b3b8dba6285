// The agent config file: locations, parsing, validation errors, precedence,
// and a real agent process started from a config file against a real AIP server.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AipServer, type ServerSession } from '@orrery/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentConfigError,
  defaultConfigPath,
  findAgentConfig,
  loadAgentConfig,
  mergeAgentConfig,
  parseAgentConfigText,
  renderAgentConfig,
  validateAgentConfig,
} from '../src/agent-config.js';
import { tempDir, waitFor } from './helpers.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'orrery-agent.js');

describe('agent config locations', () => {
  it("uses each platform's usual place", () => {
    const env = {};
    expect(defaultConfigPath('user', { env: { XDG_CONFIG_HOME: '/x/cfg' }, platform: 'linux', home: '/home/a' })).toBe(
      '/x/cfg/orrery/agent.yaml',
    );
    expect(defaultConfigPath('user', { env, platform: 'linux', home: '/home/a' })).toBe(
      '/home/a/.config/orrery/agent.yaml',
    );
    expect(defaultConfigPath('system', { env, platform: 'linux', home: '/home/a' })).toBe('/etc/orrery/agent.yaml');
    expect(defaultConfigPath('user', { env, platform: 'darwin', home: '/Users/a' })).toBe(
      '/Users/a/Library/Application Support/orrery/agent.yaml',
    );
    expect(defaultConfigPath('system', { env, platform: 'darwin', home: '/Users/a' })).toBe(
      '/Library/Application Support/orrery/agent.yaml',
    );
    expect(
      defaultConfigPath('user', {
        env: { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' },
        platform: 'windows',
        home: 'C:\\Users\\a',
      }),
    ).toBe('C:\\Users\\a\\AppData\\Roaming\\orrery\\agent.yaml');
    expect(
      defaultConfigPath('system', { env: { ProgramData: 'D:\\PD' }, platform: 'windows', home: 'C:\\Users\\a' }),
    ).toBe('D:\\PD\\orrery\\agent.yaml');
    expect(defaultConfigPath('user', { env, platform: 'android', home: '/data/data/com.termux/files/home' })).toBe(
      '/data/data/com.termux/files/home/.config/orrery/agent.yaml',
    );
  });

  it('finds $ORRERY_AGENT_CONFIG, then the user file, then the system file', () => {
    const host = { env: {}, platform: 'linux' as const, home: '/home/a' };
    expect(findAgentConfig(host, () => false)).toBeUndefined();
    expect(findAgentConfig(host, (p) => p === '/etc/orrery/agent.yaml')).toBe('/etc/orrery/agent.yaml');
    expect(findAgentConfig(host, () => true)).toBe('/home/a/.config/orrery/agent.yaml');
    expect(findAgentConfig({ ...host, env: { ORRERY_AGENT_CONFIG: '/c.json' } }, () => true)).toBe('/c.json');
  });
});

describe('agent config parsing and validation', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  it('refuses control characters in strings (they would end up in service files)', async () => {
    await expect(
      parseAgentConfigText('name: "lab\\nExecStartPre=/bin/evil"\nlabels: ["ok", "a\\tb"]\n', '/etc/orrery/agent.yaml'),
    ).rejects.toMatchObject({
      issues: [
        { path: 'name', message: expect.stringContaining('contains a control character') },
        { path: 'labels.1', message: expect.stringContaining('contains a control character') },
      ],
    });
  });

  it('reads YAML and JSON, resolving relative paths against the file', async () => {
    const yaml = await parseAgentConfigText(
      'server: ws://o:7070/v1/aip\nname: lab\nlabels: [gpu, fast]\nslots: 2\ndataDir: state\nresources:\n  vram-gb: 24\n  camera: 1\nlogLevel: debug\n',
      '/etc/orrery/agent.yaml',
    );
    expect(yaml).toEqual({
      server: 'ws://o:7070/v1/aip',
      name: 'lab',
      labels: ['gpu', 'fast'],
      slots: 2,
      dataDir: '/etc/orrery/state',
      resources: { 'vram-gb': 24, camera: 1 },
      logLevel: 'debug',
    });
    const json = await parseAgentConfigText('{"server":"grpc://o:7071","labels":"a, b"}', '/c/agent.json');
    expect(json).toEqual({ server: 'grpc://o:7071', labels: ['a', 'b'] });
    expect(await parseAgentConfigText('\n# only a comment\n', '/c/agent.yaml')).toEqual({});
  });

  it('lists every problem with its key path, a stable code and what to do', () => {
    let err: unknown;
    try {
      validateAgentConfig(
        {
          server: 'http://nope',
          slots: 'four',
          labelz: ['x'],
          resources: { camera: -1 },
          logLevel: 'loud',
          labels: ['ok', 'bad label'],
        },
        '/etc/orrery/agent.yaml',
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AgentConfigError);
    const e = err as AgentConfigError;
    expect(e.code).toBe('AGENT_CONFIG_INVALID');
    expect(e.issues.map((i) => i.path).sort()).toEqual([
      'labels.1',
      'labelz',
      'logLevel',
      'resources.camera',
      'server',
      'slots',
    ]);
    expect(e.message).toContain("labelz: unknown key (did you mean 'labels'?)");
    expect(e.message).toContain('slots: expected a whole number, got string "four"');
    expect(e.message).toContain('use ws://, wss://, grpc:// or grpcs://host:port');
    expect(e.message).toContain('Fix the file');
    expect(() => validateAgentConfig(['a'], 'f')).toThrow(/expected a mapping of keys/);
  });

  it('reports YAML syntax errors with AGENT_CONFIG_PARSE and a line', async () => {
    await expect(
      parseAgentConfigText('server: ws://a\nlabels: [a, b\nslots: 2\n', '/c/agent.yaml'),
    ).rejects.toMatchObject({
      code: 'AGENT_CONFIG_PARSE',
      message: expect.stringMatching(/line \d/),
    });
  });

  it('an explicit --config that does not exist is an error; a missing default is not', async () => {
    await expect(loadAgentConfig(path.join(tmp.dir, 'nope.yaml'))).rejects.toMatchObject({
      code: 'AGENT_CONFIG_NOT_FOUND',
    });
    const none = await loadAgentConfig(undefined, { env: {}, platform: 'linux', home: tmp.dir });
    expect(none).toEqual({ values: {} });
    const file = path.join(tmp.dir, '.config', 'orrery', 'agent.yaml');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'slots: 3\n');
    expect(await loadAgentConfig(undefined, { env: {}, platform: 'linux', home: tmp.dir })).toEqual({
      file,
      values: { slots: 3 },
    });
  });

  it('flag > config file > default', () => {
    expect(
      mergeAgentConfig({ slots: 2, name: 'file', labels: ['f'] }, { name: 'flag' }, { slots: 8, logLevel: 'info' }),
    ).toEqual({
      slots: 2,
      name: 'flag',
      labels: ['f'],
      logLevel: 'info',
    });
  });

  it('install writes a file that reads back to the same values', async () => {
    const values = {
      server: 'wss://o:7443/v1/aip',
      name: 'n',
      labels: ['a'],
      slots: 4,
      dataDir: '/var/lib/orrery',
      resources: { x: 1.5 },
    };
    const text = await renderAgentConfig(values);
    expect(text).toMatch(/^# Orrery device agent configuration/);
    expect(await parseAgentConfigText(text, '/etc/orrery/agent.yaml')).toEqual(values);
  });
});

describe('orrery-agent --config with a real AIP server', () => {
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
      authenticate: (hello) => ({ ok: true, deviceId: hello.deviceName }),
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

  it('takes its settings from the file, and flags win over it', async () => {
    const file = path.join(tmp.dir, 'agent.yaml');
    writeFileSync(
      file,
      `server: ws://127.0.0.1:${port}/v1/aip\nname: from-file\nlabels: [lab, fast]\nslots: 2\ndataDir: data\nlogLevel: silent\nresources:\n  camera: 1\n`,
    );
    child = spawn(process.execPath, [bin, '--config', file, '--name', 'from-flag'], {
      stdio: 'ignore',
      env: { ...process.env, HOME: tmp.dir, XDG_CONFIG_HOME: path.join(tmp.dir, 'cfg') },
    });
    await waitFor(() => sessions.length === 1, 10_000);
    const hello = sessions[0]!.hello;
    expect(hello.deviceName).toBe('from-flag');
    expect(hello.capabilities.labels).toEqual(['lab', 'fast']);
    expect(hello.capabilities.slots).toBe(2);
    expect(hello.capabilities.resources).toEqual({ camera: 1 });
    // dataDir relative to the config file
    await waitFor(() => existsSync(path.join(tmp.dir, 'data', 'outbox')), 5_000);
  });

  it('exits 1 with AGENT_CONFIG_INVALID and the key path for a bad file', async () => {
    const file = path.join(tmp.dir, 'agent.yaml');
    writeFileSync(file, `server: ws://127.0.0.1:${port}/v1/aip\nslots: 0\n`);
    child = spawn(process.execPath, [bin, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(err).toContain('error AGENT_CONFIG_INVALID');
    expect(err).toContain('slots: must be 1..4096, got 0');
    expect(sessions).toHaveLength(0);
  });
});
