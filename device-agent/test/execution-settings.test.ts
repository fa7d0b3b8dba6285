// The execution and safety settings as agent.yaml keys and command-line
// flags: validation, precedence, and their effect on a real agent process.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AipServer, type Capabilities, type ServerSession } from '@orrery/protocol';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentConfigError, mergeAgentConfig, parseAgentConfigText, validateAgentConfig } from '../src/agent-config.js';
import {
  addExecutionOptions,
  type ExecutionFlags,
  executionAgentOptions,
  executionFlagsAsConfig,
  parseRunAs,
} from '../src/safety/execution-settings.js';
import { tempDir, waitFor } from './helpers.js';

describe('execution settings in agent.yaml', () => {
  it('reads the allowlist, run-as account, work dir, adb path and limits (paths relative to the file)', async () => {
    const values = await parseAgentConfigText(
      `allow:
  executors: shell,http
  shell: ["make *", "/^npm (test|ci)$/"]
  http: [api.example.com, "*.lan"]
runAs: { user: builder }
workDir: work
adbPath: /opt/android/platform-tools/adb
maxLogBytes: 65536
maxOutputBytes: 4096
`,
      '/etc/orrery/agent.yaml',
    );
    expect(values).toEqual({
      allow: {
        executors: ['shell', 'http'],
        shell: ['make *', '/^npm (test|ci)$/'],
        http: ['api.example.com', '*.lan'],
      },
      runAs: { user: 'builder' },
      workDir: '/etc/orrery/work',
      adbPath: '/opt/android/platform-tools/adb',
      maxLogBytes: 65536,
      maxOutputBytes: 4096,
    });
    expect(executionAgentOptions(values)).toEqual({
      allow: values.allow,
      runAs: { user: 'builder' },
      workDir: '/etc/orrery/work',
      adbPath: '/opt/android/platform-tools/adb',
      executor: { maxForwardBytes: 65536, maxCaptureBytes: 4096 },
    });
  });

  it('lists every problem with its key path', () => {
    try {
      validateAgentConfig(
        {
          allow: { executors: ['shell', 'teleport'], shell: 'make *', hosts: ['x'] },
          runAs: { uid: -1 },
          maxLogBytes: 10,
        },
        'agent.yaml',
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AgentConfigError);
      const issues = (e as AgentConfigError).issues.map((i) => `${i.path}: ${i.message}`);
      expect(issues).toEqual([
        'allow.executors.1: expected one of shell, http, mcp, adb, got string "teleport"',
        'allow.shell: expected a list, got string "make *"',
        'allow.hosts: unknown key; known keys: executors, shell, http, mcp, adb, env',
        'runAs.uid: must be at least 0, got -1',
        'maxLogBytes: must be at least 1024, got 10',
      ]);
      expect((e as AgentConfigError).code).toBe('AGENT_CONFIG_INVALID');
    }
  });

  it('a flag replaces one allowlist of the file, leaving the others', () => {
    const file = validateAgentConfig({ allow: { shell: ['make *'], http: ['api.example.com'] }, maxLogBytes: 2048 });
    const flags = executionFlagsAsConfig({ allowShell: ['echo *'], runAs: parseRunAs('1001:1002') });
    expect(mergeAgentConfig(file, flags)).toEqual({
      allow: { shell: ['echo *'], http: ['api.example.com'] },
      runAs: { uid: 1001, gid: 1002 },
      maxLogBytes: 2048,
    });
    expect(parseRunAs('alice')).toEqual({ user: 'alice' });
    expect(parseRunAs('1001')).toEqual({ uid: 1001 });
  });

  it('parses the flags (repeatable --allow-*)', () => {
    const cmd = addExecutionOptions(new Command('x')).exitOverride();
    cmd.parse(
      [
        '--executors',
        'shell,mcp',
        '--allow-shell',
        'ls',
        '--allow-shell',
        'pwd',
        '--allow-mcp',
        'node *',
        '--allow-env',
        'LANG',
        '--run-as',
        'bob',
        '--max-log-bytes',
        '4096',
      ],
      { from: 'user' },
    );
    expect(executionFlagsAsConfig(cmd.opts<ExecutionFlags>())).toEqual({
      allow: { executors: ['shell', 'mcp'], shell: ['ls', 'pwd'], mcp: ['node *'], env: ['LANG'] },
      runAs: { user: 'bob' },
      maxLogBytes: 4096,
    });
    expect(() =>
      addExecutionOptions(new Command('y'))
        .exitOverride()
        .configureOutput({ writeErr: () => {} })
        .parse(['--max-log-bytes', '12'], { from: 'user' }),
    ).toThrow(/at least 1024/);
  });
});

describe('orrery-agent install with execution settings', () => {
  it('writes them into agent.yaml (dry run shows the file)', async () => {
    const tmp = tempDir();
    const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'orrery-agent.js');
    const { execFileSync } = await import('node:child_process');
    const cfg = path.join(tmp.dir, 'agent.yaml');
    const out = execFileSync(
      process.execPath,
      [
        bin,
        'install',
        '--dry-run',
        '--platform',
        'linux',
        '--server',
        'ws://h:1/v1/aip',
        '--config',
        cfg,
        '--data-dir',
        path.join(tmp.dir, 'd'),
        '--executors',
        'shell,http',
        '--allow-shell',
        'make *',
        '--allow-http',
        'api.example.com',
        '--run-as',
        'builder',
        '--max-log-bytes',
        '65536',
      ],
      { encoding: 'utf8', env: { ...process.env, HOME: tmp.dir, XDG_CONFIG_HOME: path.join(tmp.dir, 'cfg') } },
    );
    const yamlText = out.slice(
      out.indexOf('# Orrery device agent configuration'),
      out.indexOf('# would write', out.indexOf('# Orrery device agent configuration')),
    );
    expect(await parseAgentConfigText(yamlText, cfg)).toMatchObject({
      allow: { executors: ['shell', 'http'], shell: ['make *'], http: ['api.example.com'] },
      runAs: { user: 'builder' },
      maxLogBytes: 65536,
    });
    tmp.cleanup();
  });
});

describe('a real agent process with execution settings', () => {
  const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'orrery-agent.js');
  let server: AipServer | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterEach(async () => {
    await server?.close();
    tmp?.cleanup();
  });

  it('advertises the executors the config file enables, narrowed by --executors', async () => {
    tmp = tempDir();
    let caps: Capabilities | undefined;
    server = new AipServer({
      heartbeatIntervalMs: 200,
      authenticate: (hello) => ({ ok: true, deviceId: hello.deviceName }),
    });
    server.on('session', (s: ServerSession) => {
      caps = s.hello.capabilities;
    });
    const port = await server.listenWebSocket('127.0.0.1', 0);
    const cfgDir = path.join(tmp.dir, 'cfg');
    mkdirSync(cfgDir);
    writeFileSync(
      path.join(cfgDir, 'agent.yaml'),
      `server: ws://127.0.0.1:${port}/v1/aip\nlogLevel: silent\nallow: { executors: [shell, http, mcp] }\n`,
    );
    const { spawn } = await import('node:child_process');
    const child = spawn(
      process.execPath,
      [
        bin,
        '--config',
        path.join(cfgDir, 'agent.yaml'),
        '--data-dir',
        path.join(tmp.dir, 'data'),
        '--executors',
        'shell,mcp',
      ],
      {
        stdio: 'ignore',
        env: { ...process.env, HOME: tmp.dir, XDG_CONFIG_HOME: path.join(tmp.dir, 'cfg') },
      },
    );
    try {
      await waitFor(() => caps !== undefined, 15_000);
      expect(caps?.executors).toEqual(['shell', 'mcp']);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
