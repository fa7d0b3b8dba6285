// The `orrery` CLI against a real stack: submit --wait exit codes, --json,
// status, devices, logs, edit, cancel, and complete help.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT, type Stack, startStack } from '../../scripts/testing/stack.js';

let stack: Stack;
const work = mkdtempSync(join(tmpdir(), 'orrery-cli-'));

beforeAll(async () => {
  stack = await startStack({ agents: [{ name: 'cli-agent', labels: ['cpu', 'io', 'edge'], slots: 4 }] });
});
afterAll(async () => {
  await stack?.stop();
});

function orrery(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, '--server', stack.url, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('orrery CLI', () => {
  it('submit --wait exits 0 for a graph that succeeds and prints a summary', () => {
    const r = orrery('submit', join(REPO_ROOT, 'examples/hello.yaml'), '--wait');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/succeeded/);
  });

  it('submit --wait exits non-zero for a failing graph, and --json prints the final state', () => {
    const file = join(work, 'fail.yaml');
    writeFileSync(file, 'name: will-fail\ntasks:\n  bad:\n    run: exit 7\n');
    const r = orrery('submit', file, '--wait', '--json');
    expect(r.code).toBe(1);
    const state = JSON.parse(r.out) as { status: string; tasks: { bad: { status: string; attempts: Array<{ exitCode: number }> } } };
    expect(state.status).toBe('failed');
    expect(state.tasks.bad.attempts[0]?.exitCode).toBe(7);
  });

  it('reports a bad graph with its code and line, exit 2', () => {
    const file = join(work, 'cycle.yaml');
    writeFileSync(file, 'name: loop\ntasks:\n  a:\n    run: "true"\n    needs: [b]\n  b:\n    run: "true"\n    needs: [a]\n');
    const r = orrery('submit', file);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/GRAPH_CYCLE/);
    expect(r.err).toMatch(/line \d+/);
  });

  it('shows status, devices and logs; edits and cancels a running constellation', () => {
    const file = join(work, 'long.yaml');
    writeFileSync(file, 'name: long\ntasks:\n  first:\n    run: echo printed-by-first; sleep 20\n  second:\n    needs: [first]\n    run: echo two\n');
    const submitted = orrery('submit', file, '--json');
    expect(submitted.code).toBe(0);
    const id = (JSON.parse(submitted.out) as { id: string }).id;

    const devices = orrery('devices');
    expect(devices.out).toMatch(/cli-agent\s+online/);

    const edit = join(work, 'edit.yaml');
    writeFileSync(edit, 'operations:\n  - op: remove_task\n    taskId: second\n');
    const edited = orrery('edit', id, edit);
    expect(edited.code).toBe(0);
    expect(edited.out).toMatch(/revision 2/);

    const status = orrery('status', id, '--json');
    const state = JSON.parse(status.out) as { revision: number; tasks: Record<string, unknown> };
    expect(state.revision).toBe(2);
    expect(Object.keys(state.tasks)).toEqual(['first']);

    const list = orrery('status');
    expect(list.out).toContain(id);

    const cancelled = orrery('cancel', id);
    expect(cancelled.out).toMatch(/cancelled/);
    const logs = orrery('logs', id, 'first');
    expect(logs.out).toContain('printed-by-first');
  });

  it('has help for every command', () => {
    const top = orrery('--help');
    expect(top.code).toBe(0);
    for (const cmd of ['server', 'agent', 'submit', 'status', 'devices', 'logs', 'edit', 'cancel', 'plan']) {
      expect(top.out).toContain(cmd);
    }
    for (const cmd of ['server', 'submit', 'status', 'devices', 'logs', 'edit', 'cancel', 'plan', 'tokens', 'enroll']) {
      const h = orrery(cmd, '--help');
      expect(h.code, `${cmd} --help`).toBe(0);
      expect(h.out).toMatch(/Usage: orrery/);
    }
    const agentHelp = orrery('agent', '--help');
    expect(agentHelp.out).toMatch(/--server/);
  });

  it('explains a server that is not there and what to do', () => {
    const r = spawnSync(process.execPath, [CLI, '--server', 'http://127.0.0.1:9', 'status'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/SERVER_UNREACHABLE/);
    expect(r.stderr).toMatch(/orrery server/);
  });
});
