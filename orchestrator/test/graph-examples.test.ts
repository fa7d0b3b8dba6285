// The example graphs parse, and really run: each ready task's resolved
// command goes to /bin/sh in a temp dir, driven by the model until the
// constellation settles.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGraph } from '../src/graph/index.js';
import {
  assignTask,
  checkInvariants,
  type Constellation,
  completeTask,
  createConstellation,
  type OutputSource,
  resolveTaskForDispatch,
  startTask,
  type TaskStatus,
} from '../src/model/index.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const work = mkdtempSync(join(tmpdir(), 'orrery-examples-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function extract(source: OutputSource, stdout: string, cwd: string): string {
  if (source.from === 'stdout') return stdout.trimEnd();
  if (source.from === 'file') return readFileSync(join(cwd, source.path), 'utf8').trimEnd();
  let value: unknown = JSON.parse(stdout);
  for (const key of source.path ? source.path.split('.') : []) value = (value as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function runToEnd(c: Constellation): void {
  let now = 1;
  for (let guard = 0; guard < 100 && (c.status === 'running' || c.status === 'paused'); guard++) {
    now += 60_000; // past any retry backoff
    const ready = Object.keys(c.tasks).filter((id) => c.tasks[id]!.status === 'ready');
    expect(ready.length).toBeGreaterThan(0);
    for (const id of ready) {
      const a = assignTask(c, id, { deviceId: 'local', now });
      if (!a.ok) throw new Error(a.message);
      startTask(c, id, a.attempt!, now);
      const { executor } = resolveTaskForDispatch(c, id);
      const proc = spawnSync('/bin/sh', ['-c', executor.command ?? ''], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...executor.env },
        encoding: 'utf8',
        timeout: 10_000,
      });
      const ok = proc.status === 0;
      const outputs: Record<string, string> = {};
      if (ok)
        for (const [name, src] of Object.entries(c.tasks[id]!.spec.outputs))
          outputs[name] = extract(src, proc.stdout, work);
      const r = completeTask(
        c,
        id,
        a.attempt!,
        { outcome: ok ? 'succeeded' : 'failed', outputs, exitCode: proc.status ?? -1 },
        now + 1,
      );
      expect(r.ok).toBe(true);
      expect(checkInvariants(c)).toEqual([]);
    }
  }
}

function load(file: string): Constellation {
  const text = readFileSync(join(EXAMPLES, file), 'utf8');
  return createConstellation(parseGraph(text, { filename: file }), { id: file, owner: 'examples', now: 0 });
}

const statuses = (c: Constellation): Record<string, TaskStatus> =>
  Object.fromEntries(Object.entries(c.tasks).map(([id, t]) => [id, t.status]));

describe('examples', () => {
  it('hello.yaml runs in parallel on cpu/io agents and passes data', () => {
    const c = load('hello.yaml');
    expect(c.tasks.words!.spec.target).toEqual({ labels: ['io'] });
    expect(c.tasks.count!.spec.target).toEqual({ labels: ['cpu'] });
    expect(
      Object.keys(c.tasks)
        .filter((id) => c.tasks[id]!.status === 'ready')
        .sort(),
    ).toEqual(['nap', 'words']);
    runToEnd(c);
    expect(c.status).toBe('succeeded');
    expect(c.tasks.count!.outputs).toEqual({ n: '4' });
    expect(c.tasks.report!.outputs).toEqual({ words: '4', text: 'HELLO ALPHA BETA GAMMA DELTA' });
  });

  it('release-check.yaml publishes and cleans up', () => {
    const c = load('release-check.yaml');
    runToEnd(c);
    expect(c.status).toBe('succeeded');
    expect(Object.values(statuses(c)).every((s) => s === 'succeeded')).toBe(true);
    expect(c.tasks.unit!.outputs).toEqual({ score: '0.97', passed: '412' });
    expect(c.tasks.build!.outputs.artifact).toBe('app-1.2.3.tgz');
  });

  it('failure-handling.yaml retries, skips, rolls back and reports', () => {
    const c = load('failure-handling.yaml');
    runToEnd(c);
    expect(statuses(c)).toEqual({ migrate: 'failed', verify: 'skipped', rollback: 'succeeded', notify: 'succeeded' });
    expect(c.tasks.migrate!.attempts.map((a) => a.exitCode)).toEqual([3, 3]);
    expect(c.tasks.notify!.outputs.message).toBe('migrate failed, rollback succeeded');
    expect(c.status).toBe('succeeded');
  });
});
