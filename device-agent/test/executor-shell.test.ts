import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inputEnvName, ShellExecutor } from '../src/executors/shell.js';
import { makeAssign, pidAlive, tempDir, waitFor } from './helpers.js';

describe('ShellExecutor', () => {
  let tmp: ReturnType<typeof tempDir>;
  let exec: ShellExecutor;
  beforeEach(() => {
    tmp = tempDir();
    exec = new ShellExecutor({ workRoot: path.join(tmp.dir, 'work'), killGraceMs: 500 });
  });
  afterEach(() => tmp.cleanup());

  it('succeeds and captures stdout as an output, streaming chunks with offsets', async () => {
    const chunks: { stream: string; text: string; offset: number }[] = [];
    const a = exec.run(
      makeAssign('echo hello; echo oops >&2; printf world', { outputs: [{ name: 'out', source: 'stdout', path: '' }] }),
      { onOutput: (stream, data, offset) => chunks.push({ stream, text: Buffer.from(data).toString(), offset }) },
    );
    const r = await a.done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.exitCode).toBe(0);
    expect(r.outputs.out).toBe('hello\nworld');
    expect(r.stdoutBytes).toBe(11);
    expect(r.stderrBytes).toBe(5);
    const stdout = chunks.filter((c) => c.stream === 'STDOUT');
    expect(stdout.map((c) => c.text).join('')).toBe('hello\nworld');
    expect(stdout[0]?.offset).toBe(0);
    expect(chunks.filter((c) => c.stream === 'STDERR').map((c) => c.text).join('')).toBe('oops\n');
    // The default work dir is removed afterwards.
    expect(existsSync(a.cwd)).toBe(false);
  });

  it('trims exactly one trailing newline from stdout outputs', async () => {
    const r = await exec.run(makeAssign('printf "a\\n\\n"', { outputs: [{ name: 'o', source: 'stdout', path: '' }] })).done;
    expect(r.outputs.o).toBe('a\n');
  });

  it('exposes inputs, spec env and attempt identity as env vars', async () => {
    const assign = makeAssign('echo "$ORRERY_INPUT_FILE_NAME|$GREETING|$ORRERY_TASK_ID|$ORRERY_ATTEMPT|$(cat "$ORRERY_INPUTS_DIR/file-name")"', {
      inputs: { 'file-name': 'x.txt' },
      outputs: [{ name: 'o', source: 'stdout', path: '' }],
    });
    assign.executor.env = { GREETING: 'hi' };
    const r = await exec.run(assign).done;
    expect(r.outputs.o).toBe(`x.txt|hi|${assign.taskId}|1|x.txt`);
    expect(inputEnvName('a.b-c')).toBe('ORRERY_INPUT_A_B_C');
  });

  it('reads file outputs relative to the work dir and json outputs by dotted path', async () => {
    const r = await exec.run(
      makeAssign(`echo '{"a":{"b":[1,{"c":"deep"}]},"n":42}'; mkdir -p sub; printf content > sub/f.txt`, {
        outputs: [
          { name: 'file', source: 'file', path: 'sub/f.txt' },
          { name: 'deep', source: 'json', path: 'a.b.1.c' },
          { name: 'num', source: 'json', path: 'n' },
          { name: 'obj', source: 'json', path: 'a' },
        ],
      }),
    ).done;
    expect(r.error).toBe('');
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs).toEqual({ file: 'content', deep: 'deep', num: '42', obj: '{"b":[1,{"c":"deep"}]}' });
  });

  it('fails with a clear error when stdout is not JSON or a path is missing', async () => {
    const bad = await exec.run(makeAssign('echo not-json', { outputs: [{ name: 'j', source: 'json', path: 'x' }] })).done;
    expect(bad.outcome).toBe('FAILED');
    expect(bad.error).toMatch(/output 'j': stdout is not valid JSON/);
    const missing = await exec.run(makeAssign(`echo '{"a":1}'`, { outputs: [{ name: 'j', source: 'json', path: 'b' }] })).done;
    expect(missing.error).toMatch(/path 'b' not found/);
    const nofile = await exec.run(makeAssign('true', { outputs: [{ name: 'f', source: 'file', path: 'nope.txt' }] })).done;
    expect(nofile.error).toMatch(/output 'f': file nope.txt does not exist/);
  });

  it('reports a failing exit code', async () => {
    const r = await exec.run(makeAssign('echo bad >&2; exit 3')).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.exitCode).toBe(3);
    expect(r.error).toBe('exit code 3');
  });

  it('uses an absolute cwd as is and leaves it in place', async () => {
    const dir = path.join(tmp.dir, 'mine');
    const a = makeAssign('pwd > here.txt', {});
    a.executor.cwd = dir;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const r = await exec.run(a).done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(readFileSync(path.join(dir, 'here.txt'), 'utf8').trim()).toBe(dir);
  });

  it('times out and kills the whole process tree', async () => {
    const pidFile = path.join(tmp.dir, 'pids');
    const notes: string[] = [];
    const a = exec.run(
      makeAssign(`sh -c 'sleep 30 & echo $! > ${pidFile}; sleep 30 & echo $! >> ${pidFile}; wait'`, { timeoutMs: 300 }),
      { onNote: (t) => notes.push(t) },
    );
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split('\n').length === 2);
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    expect(pids.every(pidAlive)).toBe(true);
    const r = await a.done;
    expect(r.outcome).toBe('TIMED_OUT');
    expect(r.exitCode).toBe(-1);
    expect(r.signal).toBe('SIGTERM');
    expect(notes.join('\n')).toMatch(/timed out after 300 ms/);
    await waitFor(() => !pids.some(pidAlive), 3_000);
    expect(pids.some(pidAlive)).toBe(false);
  });

  it('SIGKILLs a tree that ignores SIGTERM after the grace period', async () => {
    const pidFile = path.join(tmp.dir, 'pid');
    const a = exec.run(makeAssign(`trap '' TERM; sleep 30 & echo $! > ${pidFile}; while :; do sleep 1; done`));
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const bg = Number(readFileSync(pidFile, 'utf8').trim());
    a.cancel('user asked');
    const r = await a.done;
    expect(r.outcome).toBe('CANCELLED');
    expect(r.error).toBe('cancelled: user asked');
    expect(r.signal).toBe('SIGKILL');
    await waitFor(() => !pidAlive(bg), 3_000);
  });

  it('cancel kills a running task', async () => {
    const a = exec.run(makeAssign('sleep 30'));
    await waitFor(() => a.pid() !== undefined);
    a.cancel();
    const r = await a.done;
    expect(r.outcome).toBe('CANCELLED');
    expect(pidAlive(a.pid()!)).toBe(false);
  });

  it('kills background leftovers when the main process exits', async () => {
    const pidFile = path.join(tmp.dir, 'bg');
    const r = await exec.run(makeAssign(`sleep 30 & echo $! > ${pidFile}; echo done`)).done;
    expect(r.outcome).toBe('SUCCEEDED');
    const bg = Number(readFileSync(pidFile, 'utf8').trim());
    await waitFor(() => !pidAlive(bg), 3_000);
  });

  it('caps forwarded output, notes the truncation once, and stays responsive', async () => {
    const small = new ShellExecutor({ workRoot: path.join(tmp.dir, 'w2'), maxForwardBytes: 256 * 1024 });
    let forwarded = 0;
    const notes: string[] = [];
    let ticks = 0;
    const tick = setInterval(() => {
      ticks += 1;
    }, 5);
    try {
      // ~20 MiB of output, far beyond the cap.
      const r = await small.run(makeAssign('head -c 20000000 /dev/zero'), {
        onOutput: (_s, d) => {
          forwarded += d.length;
        },
        onNote: (t) => notes.push(t),
      }).done;
      expect(r.outcome).toBe('SUCCEEDED');
      expect(r.stdoutBytes).toBe(20_000_000);
      expect(forwarded).toBe(256 * 1024);
      expect(notes.filter((n) => n.startsWith('output truncated'))).toHaveLength(1);
      // The event loop kept turning while the flood was read.
      expect(ticks).toBeGreaterThan(0);
    } finally {
      clearInterval(tick);
    }
  });

  it('fails stdout outputs larger than the capture limit instead of cutting them', async () => {
    const small = new ShellExecutor({ workRoot: path.join(tmp.dir, 'w3'), maxCaptureBytes: 1000 });
    const r = await small.run(makeAssign('head -c 5000 /dev/zero', { outputs: [{ name: 'o', source: 'stdout', path: '' }] })).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toMatch(/exceeds the 1000-byte capture limit/);
  });

  it('turns ::progress lines into progress updates', async () => {
    const ups: { fraction: number; message: string }[] = [];
    await exec.run(makeAssign('echo "::progress 0.25 warming"; echo other; echo "::progress 80%"'), {
      onProgress: (u) => ups.push(u),
    }).done;
    expect(ups).toEqual([
      { fraction: 0.25, message: 'warming' },
      { fraction: 0.8, message: '' },
    ]);
  });

  it('fails cleanly when the command cannot start', async () => {
    writeFileSync(path.join(tmp.dir, 'file'), 'x');
    const a = makeAssign('true');
    a.executor.cwd = path.join(tmp.dir, 'file', 'sub');
    const r = await exec.run(a).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toMatch(/AGENT_SPAWN_FAILED/);
  });
});
