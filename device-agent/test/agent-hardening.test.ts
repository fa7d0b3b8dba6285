// What a task (or whoever writes its graph) must not get from the agent,
// which may run as root with tasks under runAs: files outside the work dir
// through outputs, cwd or adb; a frozen agent through a FIFO; code run by an
// allowlisted command through its env; an attempt hanging on an escaped child.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceAgent } from '../src/agent.js';
import type { DeviceAgentOptions } from '../src/agent-options.js';
import { AdbExecutor } from '../src/executors/adb.js';
import { makeWorkDir } from '../src/executors/attempt-env.js';
import { ShellExecutor } from '../src/executors/shell.js';
import { CommandPolicy } from '../src/safety/policy.js';
import type { FakeSession } from './fake-session.js';
import {
  executorSettings,
  makeAssign,
  makeKindAssign,
  resultFor,
  startFakeAgent,
  tempDir,
} from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let agent: DeviceAgent | undefined;
let session: FakeSession;

async function startAgent(extra: Partial<DeviceAgentOptions> = {}): Promise<void> {
  agent = await startFakeAgent({ name: 'hardened-device', dataDir: path.join(tmp.dir, 'data'), ...extra }, (s) => {
    session = s;
  });
}

const resultOf = (a: ReturnType<typeof makeAssign>) => resultFor(session, a);

function shell(): ShellExecutor {
  return new ShellExecutor({ workRoot: path.join(tmp.dir, 'work'), killGraceMs: 300 });
}

beforeEach(() => {
  tmp = tempDir();
});
afterEach(async () => {
  await agent?.stop({ drain: false });
  agent = undefined;
  tmp.cleanup();
});

describe('file outputs stay inside the work dir', () => {
  it('refuses absolute and `..` output paths', async () => {
    const secret = path.join(tmp.dir, 'secret.txt');
    writeFileSync(secret, 'top secret');
    for (const p of [secret, '../../../../secret.txt', 'a/../../x']) {
      const r = await shell().run(makeAssign('true', { outputs: [{ name: 's', source: 'file', path: p }] })).done;
      expect(r.outcome).toBe('FAILED');
      expect(r.error).toContain("must be relative to the work dir, without '..'");
      expect(r.outputs).toEqual({});
    }
  });

  it('refuses a symlink out of the work dir, and a FIFO without blocking', async () => {
    const secret = path.join(tmp.dir, 'secret.txt');
    writeFileSync(secret, 'top secret');
    const link = await shell().run(
      makeAssign(`ln -s ${secret} link; mkdir d; ln -s ${tmp.dir} d/up`, {
        outputs: [{ name: 's', source: 'file', path: 'link' }],
      }),
    ).done;
    expect(link.outcome).toBe('FAILED');
    expect(link.error).toContain('resolves outside the work dir');
    const viaDir = await shell().run(
      makeAssign(`mkdir d; ln -s ${tmp.dir} d/up`, {
        outputs: [{ name: 's', source: 'file', path: 'd/up/secret.txt' }],
      }),
    ).done;
    expect(viaDir.outcome).toBe('FAILED');
    expect(viaDir.error).toContain('resolves outside the work dir');

    const ex = shell();
    const a = makeAssign('mkfifo p', { outputs: [{ name: 'p', source: 'file', path: 'p' }] });
    // Were the agent stuck opening the FIFO, this writer would free it after 3 s (and the output be '').
    const fifo = path.join(ex.defaultWorkDir(a), 'p');
    const writer = spawn('sh', ['-c', `sleep 3; [ -p ${fifo} ] && : > ${fifo}`], { stdio: 'ignore' });
    const r = await ex.run(a).done;
    writer.kill();
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toContain('p is not a regular file');
  });

  it('still reads a regular file in a subdir, capped', async () => {
    const ex = new ShellExecutor({ workRoot: path.join(tmp.dir, 'work'), maxCaptureBytes: 1024 });
    const ok = await ex.run(
      makeAssign('mkdir -p out && printf hi > out/x', { outputs: [{ name: 'x', source: 'file', path: 'out/x' }] }),
    ).done;
    expect(ok.outputs).toEqual({ x: 'hi' });
    const big = await ex.run(
      makeAssign('head -c 2000 /dev/zero > big', { outputs: [{ name: 'b', source: 'file', path: 'big' }] }),
    ).done;
    expect(big.outcome).toBe('FAILED');
    expect(big.error).toContain('over the 1024-byte output limit');
  });
});

describe('input files are written before the work dir is handed over', () => {
  it('writes them with the dir, through no existing (possibly planted) path', () => {
    const base = path.join(tmp.dir, 'attempt');
    const outside = path.join(tmp.dir, 'outside');
    mkdirSync(outside);
    makeWorkDir(base, base, undefined, { greeting: 'hi' });
    expect(readdirSync(path.join(base, '.orrery', 'inputs'))).toEqual(['greeting']);
    const planted = path.join(tmp.dir, 'planted');
    mkdirSync(planted);
    symlinkSync(outside, path.join(planted, '.orrery'));
    expect(() => makeWorkDir(planted, planted, undefined, { greeting: 'hi' })).toThrow(/EEXIST/);
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe('adb local paths and environment', () => {
  function fakeAdb(): string {
    const adb = path.join(tmp.dir, 'adb');
    writeFileSync(
      adb,
      [
        '#!/bin/sh',
        'if [ "$1" = devices ]; then echo "List of devices attached"; echo "emu device"; exit 0; fi',
        'echo "uid=$(id -u) spec=[$FROM_SPEC] agent=[$FROM_AGENT]"',
        'if [ "$4" = hang ]; then setsid sleep 20 & fi',
        'exit 0',
        '',
      ].join('\n'),
    );
    chmodSync(adb, 0o755);
    return adb;
  }

  it('refuses absolute and `..` local paths at check, even where an allow.adb pattern matches', () => {
    const ex = new AdbExecutor(executorSettings(tmp.dir), fakeAdb(), new CommandPolicy('adb', ['pull * results/*']));
    for (const local of ['/etc/ld.so.preload', 'results/../../../etc/ld.so.preload']) {
      const problem = ex.check(makeKindAssign('adb', { pull: { remote: '/sdcard/x', local } }));
      expect(problem?.code).toBe('BAD_ASSIGN');
      expect(problem?.message).toContain("args.pull[0].local must be a path relative to the work dir, without '..'");
    }
    expect(ex.check(makeKindAssign('adb', { push: { local: '/etc/shadow', remote: '/sdcard/x' } }))?.code).toBe(
      'BAD_ASSIGN',
    );
  });

  it('refuses pushing a symlink out of the work dir and pulling through one', async () => {
    const ex = new AdbExecutor(executorSettings(tmp.dir), fakeAdb());
    const outside = path.join(tmp.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 's');
    const push = makeKindAssign('adb', { push: { local: 'in/secret', remote: '/sdcard/x' } });
    const pull = makeKindAssign('adb', { pull: { remote: '/sdcard/x', local: 'in/y' } });
    for (const a of [push, pull]) {
      // The work dir with a planted link, as an earlier process of the task's account could leave it.
      const dir = path.join(tmp.dir, 'work', a.constellationId, a.taskId, String(a.attempt));
      mkdirSync(dir, { recursive: true });
      symlinkSync(outside, path.join(dir, 'in'));
      const r = await ex.run(a).done;
      expect(r.outcome).toBe('FAILED');
      expect(r.error).toMatch(/resolves outside the work dir|is a symlink \(not followed\)/);
    }
    expect(readdirSync(outside)).toEqual(['secret']);
  });

  it("runs adb with the agent's scrubbed env, not the spec's", async () => {
    const ex = new AdbExecutor(
      executorSettings(tmp.dir, { baseEnv: { PATH: process.env.PATH!, FROM_AGENT: 'yes' } }),
      fakeAdb(),
    );
    const a = makeKindAssign('adb', { shell: 'true' }, { outputs: [{ name: 'o', source: 'stdout', path: '' }] });
    a.executor.env = { FROM_SPEC: 'injected', LD_PRELOAD: '/nonexistent.so' };
    const r = await ex.run(a).done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs.o).toContain('spec=[] agent=[yes]');
  });

  it('does not hang on a child that escaped the group holding the pipes', async () => {
    const ex = new AdbExecutor(executorSettings(tmp.dir), fakeAdb());
    const r = await ex.run(makeKindAssign('adb', { shell: 'hang' })).done;
    expect(r.outcome).toBe('SUCCEEDED');
  }, 15_000);
});

describe('allow.env', () => {
  it('with an allowlist, refuses env names not in allow.env, and code-loading names unless listed exactly', async () => {
    await startAgent({
      allow: { shell: ['echo *'], http: ['127.0.0.1:9'], env: ['GREETING', 'MY_*', 'NODE_OPTIONS'] },
    });
    const withEnv = (env: Record<string, string>) => {
      const a = makeAssign('echo "$GREETING"', { outputs: [{ name: 'o', source: 'stdout', path: '' }] });
      a.executor.env = env;
      return a;
    };
    expect((await resultOf(withEnv({ GREETING: 'hi', MY_X: '1', NODE_OPTIONS: '' }))).outputs.o).toBe('hi');
    for (const env of [{ LD_PRELOAD: '/tmp/x.so' }, { PATH: '/tmp' }, { OTHER: '1' }]) {
      session.deliver({ type: 'assign', value: withEnv(env) });
    }
    const rejects = session.of('reject');
    expect(rejects.map((r) => r.code)).toEqual(['COMMAND_NOT_ALLOWED', 'COMMAND_NOT_ALLOWED', 'COMMAND_NOT_ALLOWED']);
    expect(rejects[0]?.reason).toContain('env "LD_PRELOAD" is not allowed on this device');
    expect(rejects[0]?.reason).toContain('must be listed by exact name');
    expect(rejects[1]?.reason).toContain('"PATH"');
    expect(rejects[2]?.reason).toContain('add them to allow.env in the agent config or pass --allow-env');
    // http starts no process: its env (e.g. from graph defaults) is not checked.
    const call = makeKindAssign('http', { url: 'http://127.0.0.1:9/' });
    call.executor.env = { LOG: 'info' };
    session.deliver({ type: 'assign', value: call });
    expect(session.of('reject')).toHaveLength(3);
  });

  it('a `*` pattern does not let code-loading names through; an mcp server env counts too', async () => {
    await startAgent({ allow: { shell: ['*'], mcp: ['*'], env: ['*'] } });
    const a = makeAssign('true');
    a.executor.env = { DYLD_INSERT_LIBRARIES: 'x' };
    session.deliver({ type: 'assign', value: a });
    session.deliver({
      type: 'assign',
      value: makeKindAssign('mcp', {
        server: { command: 'node', env: { NODE_OPTIONS: '--import=data:x' } },
        tool: 't',
      }),
    });
    expect(session.of('reject').map((r) => r.reason.slice(0, 30))).toEqual([
      'env "DYLD_INSERT_LIBRARIES" is',
      'env "NODE_OPTIONS" is not allo',
    ]);
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
  console.log('skipping run-as hardening tests: they need root on Linux with useradd (to create a throwaway account)');

describe.skipIf(!canSwitch)('with runAs', () => {
  const user = `orrhard${process.pid % 100000}`;
  let uid = 0;
  beforeEach(() => {
    execFileSync('useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', user]);
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  });
  afterEach(() => {
    execFileSync('userdel', [user]);
  });

  it('refuses a cwd outside the work dir (where outputs would read root-only files)', async () => {
    await startAgent({ runAs: { user } });
    const secretDir = path.join(tmp.dir, 'root-only');
    mkdirSync(secretDir, { mode: 0o700 });
    writeFileSync(path.join(secretDir, 'secret'), 'root secret', { mode: 0o600 });
    for (const cwd of [secretDir, '../../../../..']) {
      const a = makeAssign('true', { outputs: [{ name: 's', source: 'file', path: 'secret' }] });
      a.executor.cwd = cwd;
      const r = await resultOf(a);
      expect(r.outcome).toBe('FAILED');
      expect(r.error).toContain('AGENT_CWD_OUTSIDE_WORK_DIR');
    }
    const sub = makeAssign('pwd; stat -c %U "$ORRERY_INPUTS_DIR/greeting"', {
      inputs: { greeting: 'hi' },
      outputs: [{ name: 'o', source: 'stdout', path: '' }],
    });
    sub.executor.cwd = 'sub/dir';
    const ok = await resultOf(sub);
    expect(ok.outcome).toBe('SUCCEEDED');
    expect(ok.outputs.o).toMatch(new RegExp(`/sub/dir\\n${user}$`));
  });

  it('refuses a default work root someone else created', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    const id = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
    const root = path.join(os.tmpdir(), `orrery-agent-work-${id}`);
    mkdirSync(root, { recursive: true });
    chownSync(root, uid, uid);
    try {
      await expect(startAgent({ runAs: { user }, executor: { keepWorkDirs: true } })).rejects.toMatchObject({
        code: 'AGENT_CONFIG_INVALID',
        message: expect.stringContaining(`is owned by uid ${uid}`),
      });
      agent = undefined;
      chownSync(root, 0, 0);
      chmodSync(root, 0o777);
      await expect(startAgent({ runAs: { user }, executor: { keepWorkDirs: true } })).rejects.toMatchObject({
        message: expect.stringContaining('writable by group or others'),
      });
      agent = undefined;
      chmodSync(root, 0o700);
      await startAgent({ runAs: { user }, executor: { keepWorkDirs: true } });
      expect(statSync(root).mode & 0o777).toBe(0o711);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('runs adb as the task account', async () => {
    const adb = path.join(tmp.dir, 'adb');
    writeFileSync(
      adb,
      '#!/bin/sh\nif [ "$1" = devices ]; then printf "List of devices attached\\nemu\\tdevice\\n"; exit 0; fi\nid -u\n',
    );
    chmodSync(adb, 0o755);
    chmodSync(tmp.dir, 0o755);
    await startAgent({ runAs: { user }, adbPath: adb });
    const r = await resultOf(
      makeKindAssign('adb', { shell: 'id' }, { outputs: [{ name: 'o', source: 'stdout', path: '' }] }),
    );
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs.o).toBe(String(uid));
  });
});

describe('progress markers', () => {
  it('are rate-limited per attempt (the latest kept) and their messages capped, as they bypass maxLogBytes', async () => {
    await startAgent();
    const long = 'x'.repeat(2000);
    const a = makeAssign(`i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo "::progress $((i/20))% ${long}"; done`);
    const r = await resultOf(a);
    expect(r.outcome).toBe('SUCCEEDED');
    const progress = session.of('progress').filter((p) => p.taskId === a.taskId);
    // 2000 markers; at 2 per second only a handful go out, however slow the machine.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.length).toBeLessThan(100);
    expect(progress.at(-1)!.fraction).toBe(1);
    expect(Math.max(...progress.map((p) => p.message.length))).toBe(256);
  });
});
