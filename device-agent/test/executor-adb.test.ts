// The adb executor with a fake `adb` on PATH (test/fixtures/fake-adb), which
// keeps each "device" as a directory and records every call.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdbExecutor } from '../src/executors/adb.js';
import { ExecutorRegistry, findOnPath } from '../src/executors/registry.js';
import { CommandPolicy } from '../src/safety/policy.js';
import { executorSettings, makeKindAssign, recordHooks, tempDir, waitFor } from './helpers.js';

const FAKE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-adb');

let tmp: ReturnType<typeof tempDir>;
let state: string;

function attach(devices: Record<string, string>): void {
  writeFileSync(path.join(state, 'devices.json'), JSON.stringify(devices));
}

function calls(): string[][] {
  return readFileSync(path.join(state, 'calls.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as string[]);
}

function executor(allow?: string[]): AdbExecutor {
  const adb = findOnPath('adb', `${FAKE_DIR}:/usr/bin:/bin`);
  expect(adb).toBe(path.join(FAKE_DIR, 'adb'));
  const settings = executorSettings(tmp.dir, { baseEnv: { ...process.env, FAKE_ADB_STATE: state } });
  return new AdbExecutor(settings, adb!, allow ? new CommandPolicy('adb', allow) : undefined);
}

beforeEach(() => {
  tmp = tempDir();
  state = path.join(tmp.dir, 'adb-state');
  mkdirSync(state);
  attach({ 'emu-5554': 'device' });
});
afterEach(() => tmp.cleanup());

describe('adb executor', () => {
  it('pushes, runs a shell command and pulls, all with -s <serial>; pulled files become file outputs', async () => {
    // Local files are the work dir's: here the input file the agent writes for input `text`.
    attach({ 'emu-5554': 'device', R58M: 'device' });
    const rec = recordHooks();
    const a = makeKindAssign(
      'adb',
      {
        serial: 'R58M',
        push: [{ local: '.orrery/inputs/text', remote: '/sdcard/in.txt' }],
        shell: 'tr a-z A-Z < sdcard/in.txt > sdcard/out.txt && echo converted',
        pull: { remote: '/sdcard/out.txt', local: 'results/out.txt' },
      },
      {
        inputs: { text: 'hello phone' },
        outputs: [
          { name: 'said', source: 'stdout', path: '' },
          { name: 'result', source: 'file', path: 'results/out.txt' },
        ],
      },
    );
    const ex = executor();
    expect(ex.check(a)).toBeUndefined();
    const r = await ex.run(a, rec.hooks).done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs).toEqual({ said: 'converted', result: 'HELLO PHONE' });
    const log = calls();
    expect(log[0]).toEqual(['devices']);
    expect(log.slice(1).map((c) => c.slice(0, 3))).toEqual([
      ['-s', 'R58M', 'push'],
      ['-s', 'R58M', 'shell'],
      ['-s', 'R58M', 'pull'],
    ]);
    expect(readFileSync(path.join(state, 'devices', 'R58M', 'sdcard', 'out.txt'), 'utf8')).toBe('HELLO PHONE');
    expect(rec.out.SYSTEM).toContain('$ adb -s R58M shell tr a-z A-Z');
    expect(rec.out.STDOUT).toContain('1 file pushed');
  });

  it('uses the only attached device when no serial is given, and says what to do otherwise', async () => {
    const one = await executor().run(
      makeKindAssign('adb', { shell: 'echo ok' }, { outputs: [{ name: 'o', source: 'stdout', path: '' }] }),
    ).done;
    expect(one.outputs.o).toBe('ok');
    expect(calls()[1]).toEqual(['-s', 'emu-5554', 'shell', 'echo ok']);

    attach({ a1: 'device', b2: 'device', c3: 'unauthorized' });
    const several = await executor().run(makeKindAssign('adb', { shell: 'true' })).done;
    expect(several.error).toBe('ADB_SERIAL_REQUIRED: several devices are attached (a1, b2); set args.serial');
    const notReady = await executor().run(makeKindAssign('adb', { serial: 'c3', shell: 'true' })).done;
    expect(notReady.error).toBe('ADB_DEVICE_NOT_READY: device c3 is unauthorized');
    const absent = await executor().run(makeKindAssign('adb', { serial: 'zz', shell: 'true' })).done;
    expect(absent.error).toBe('ADB_NO_DEVICE: device zz is not attached (attached: a1, b2, c3)');
    attach({});
    const none = await executor().run(makeKindAssign('adb', { shell: 'true' })).done;
    expect(none.outcome).toBe('FAILED');
    expect(none.error).toMatch(/^ADB_NO_DEVICE: no Android device is attached/);
  });

  it("fails with the remote command's exit code, and with adb's message when a transfer fails", async () => {
    const rec = recordHooks();
    const r = await executor().run(makeKindAssign('adb', { shell: 'echo broken >&2; exit 7' }), rec.hooks).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.exitCode).toBe(7);
    expect(r.error).toBe('exit code 7');
    expect(rec.out.STDERR).toBe('broken\n');
    const rec2 = recordHooks();
    const push = await executor().run(
      makeKindAssign('adb', { push: { local: 'nothing-here', remote: '/x' }, shell: 'echo never' }),
      rec2.hooks,
    ).done;
    expect(push.error).toBe(
      "ADB_PUSH_FAILED: nothing-here -> /x: exit code 1: adb: error: cannot stat '" +
        path.join(tmp.dir, 'work', 'c1', push.taskId, '1', 'nothing-here') +
        "': No such file or directory",
    );
    expect(rec2.out.STDERR).toContain('cannot stat');
    expect(calls().some((c) => c.includes('echo never'))).toBe(false);
    const pull = await executor().run(makeKindAssign('adb', { pull: { remote: '/missing', local: 'm' } })).done;
    expect(pull.error).toBe(
      "ADB_PULL_FAILED: /missing -> m: exit code 1: adb: error: failed to stat remote object '/missing': No such file or directory",
    );
  });

  it('cancel kills the running adb command', async () => {
    const rec = recordHooks();
    const run = executor().run(makeKindAssign('adb', { shell: 'echo started; sleep 30' }), rec.hooks);
    await waitFor(() => rec.out.STDOUT.includes('started'), 10_000);
    run.cancel('stop it');
    const r = await run.done;
    expect(r.outcome).toBe('CANCELLED');
  });

  it('checks each operation against allow.adb, and args before running', () => {
    const ex = executor(['shell getprop *', 'pull /sdcard/* *']);
    expect(
      ex.check(makeKindAssign('adb', { shell: 'getprop ro.product.model', pull: { remote: '/sdcard/a', local: 'a' } })),
    ).toBeUndefined();
    const refused = ex.check(
      makeKindAssign('adb', { shell: 'getprop x', push: { local: 'passwd', remote: '/sdcard/p' } }),
    );
    expect(refused?.code).toBe('COMMAND_NOT_ALLOWED');
    expect(refused?.message).toContain('adb operation "push passwd /sdcard/p" is not allowed on this device');
    expect(refused?.message).toContain('allow.adb');
    expect(executor().check(makeKindAssign('adb', { serial: 'x' }))).toEqual({
      code: 'BAD_ASSIGN',
      message: 'adb: give at least one of args.push, args.shell, args.pull',
    });
    expect(executor().check(makeKindAssign('adb', { push: [{ local: 'a' }] }))?.message).toBe(
      'adb: args.push[0].remote must be a non-empty string',
    );
  });

  it('is offered only when adb is found on PATH or configured', () => {
    const settings = executorSettings(tmp.dir);
    expect(new ExecutorRegistry({ settings, searchPath: '/nonexistent' }).kinds()).toEqual(['shell', 'http', 'mcp']);
    expect(new ExecutorRegistry({ settings, searchPath: FAKE_DIR }).kinds()).toEqual(['shell', 'http', 'mcp', 'adb']);
    expect(
      new ExecutorRegistry({ settings, searchPath: '/nonexistent', adbPath: path.join(FAKE_DIR, 'adb') }).kinds(),
    ).toContain('adb');
    expect(() => new ExecutorRegistry({ settings, adbPath: '/nonexistent/adb' })).toThrow(/adbPath: \/nonexistent\/adb does not exist/);
    const reg = new ExecutorRegistry({ settings, searchPath: '/nonexistent' });
    expect(reg.unavailable('adb')).toEqual({
      code: 'UNSUPPORTED_EXECUTOR',
      message: "executor 'adb' is not available on this device (adb was not found on PATH; install it or set adbPath)",
    });
  });
});
