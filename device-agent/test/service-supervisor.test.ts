// The installed agent under a real supervisor: `orrery-agent install
// --platform android` writes the Termux:Boot script and starts it with real
// `sh`, which supervises a real agent process connected to a real
// orchestrator (auth on). kill -9 the agent: the loop restarts it and it
// reconnects and runs work. Revoke the device: the agent exits 2 and the loop
// ends for good. Then status and uninstall.
//
// systemd cannot run here (PID 1 of this container and of CI is not
// systemd), so the systemd/launchd/Task Scheduler definitions are checked as
// text in service.test.ts; the sh supervisor is the same restart policy
// (restart on failure, never after 0 or 2) run for real.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OrchestratorHandle, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';
import { readRunState } from '../src/run-state.js';
import { alive } from '../src/service-manager.js';
import { tempDir } from './helpers.js';

const bin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'orrery-agent.js');

/** orrery-agent <args> with HOME in the temp dir (the service files go there). */
async function runBin(args: string[], home: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: '', XDG_STATE_HOME: '', TERMUX_VERSION: '', ANDROID_ROOT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  return { code, out };
}

describe('the installed agent under a real supervisor (sh restart loop)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let orch: OrchestratorHandle | undefined;
  const started: number[] = [];
  beforeEach(() => {
    tmp = tempDir('orrery-supervisor-');
  });
  afterEach(async () => {
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    started.length = 0;
    await orch?.kill('SIGTERM');
    tmp.cleanup();
  });

  it('restarts the agent after kill -9 (it reconnects and runs work), not after exit 2 (revoked)', async () => {
    orch = await startOrchestrator({ auth: true, heartbeatMs: 300 });
    const admin = readFileSync(path.join(orch.dataDir, 'admin-token'), 'utf8').trim();
    const call = async <T>(method: string, p: string, body?: unknown): Promise<T> => {
      const res = await fetch(new URL(p, orch!.url), {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    type Dev = { id: string; name: string; status: string };
    const device = async (): Promise<Dev | undefined> =>
      (await call<{ items: Dev[] }>('GET', '/v1/devices')).items.find((d) => d.name === 'supervised');
    const runTask = async (tag: string): Promise<void> => {
      const c = await call<{ id: string }>('POST', '/v1/constellations', {
        name: `supervised-${tag}`,
        tasks: { hello: { target: { device: 'supervised' }, run: `echo ${tag}` } },
      });
      await waitFor(
        async () => (await call<{ status: string }>('GET', `/v1/constellations/${c.id}`)).status === 'succeeded',
        `task ${tag}`,
      );
    };
    const { token } = await call<{ token: string }>('POST', '/v1/admin/enrollment-tokens', { maxUses: 1 });

    const home = path.join(tmp.dir, 'home');
    const dataDir = path.join(tmp.dir, 'data');
    const install = await runBin(
      [
        'install',
        '--platform',
        'android',
        '--server',
        orch.aipUrl,
        '--name',
        'supervised',
        '--data-dir',
        dataDir,
        '--token',
        token,
        '--log-level',
        'warn',
      ],
      home,
    );
    expect(install.code, install.out).toBe(0);
    const script = path.join(home, '.termux', 'boot', 'orrery-agent');
    expect(install.out).toContain(`ran: sh ${script}`);

    await waitFor(async () => (await device())?.status === 'online', 'the supervised agent online');
    const supervisor = Number(readFileSync(path.join(dataDir, 'supervisor.pid'), 'utf8'));
    started.push(supervisor);
    const first = readRunState(dataDir)!;
    started.push(first.pid);
    expect(alive(first.pid)).toBe(true);
    const status1 = await runBin(['status', '--platform', 'android'], home);
    expect(status1.code, status1.out).toBe(0);
    expect(status1.out).toContain(`manager:    running (sh supervisor, pid ${supervisor})`);
    expect(status1.out).toContain(`agent:      running, pid ${first.pid}`);
    expect(status1.out).toMatch(/, connected as \S+ since \d{4}-/);
    await runTask('before');

    // A crash: the supervisor starts a new agent, which reconnects with its stored credential.
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !alive(first.pid), 'the agent to die');
    const second = await waitFor(
      () => {
        const s = readRunState(dataDir);
        return s && s.pid !== first.pid && alive(s.pid) ? s : undefined;
      },
      'a restarted agent',
      30_000,
    );
    started.push(second.pid);
    await waitFor(async () => (await device())?.status === 'online', 'the restarted agent online again');
    await runTask('after-restart');

    // Revoked: the agent exits 2 and the loop ends instead of restarting it.
    const dev = (await device())!;
    await call('POST', `/v1/devices/${dev.id}/revoke`, {});
    await waitFor(() => !alive(second.pid), 'the revoked agent to exit');
    await waitFor(() => !alive(supervisor), 'the supervisor loop to end');
    expect(readRunState(dataDir)).toMatchObject({ pid: second.pid, exitCode: 2 });
    const log = readFileSync(path.join(dataDir, 'agent.log'), 'utf8');
    expect(log).toMatch(/exited with 137; restarting/);
    expect(log).toContain('orrery-agent exited with 2; not restarting');
    const status2 = await runBin(['status', '--platform', 'android'], home);
    expect(status2.code).toBe(3);
    expect(status2.out).toContain('agent:      exited 2');

    const un = await runBin(['uninstall', '--platform', 'android'], home);
    expect(un.code, un.out).toBe(0);
    expect(un.out).toContain(`removed ${script}`);
  });

  it('uninstall stops a running supervisor (the agent drains and exits 0)', async () => {
    orch = await startOrchestrator({ heartbeatMs: 300 });
    const home = path.join(tmp.dir, 'home');
    const dataDir = path.join(tmp.dir, 'data');
    const install = await runBin(
      ['install', '--platform', 'android', '--server', orch.aipUrl, '--name', 'sup2', '--data-dir', dataDir],
      home,
    );
    expect(install.code, install.out).toBe(0);
    const agent = await waitFor(() => {
      const s = readRunState(dataDir);
      return s && alive(s.pid) ? s : undefined;
    }, 'the agent to start');
    started.push(agent.pid);
    const supervisor = Number(readFileSync(path.join(dataDir, 'supervisor.pid'), 'utf8'));
    started.push(supervisor);
    const un = await runBin(['uninstall', '--platform', 'android', '--purge'], home);
    expect(un.code, un.out).toBe(0);
    expect(un.out).toContain(`stopped the supervisor (pid ${supervisor})`);
    expect(alive(agent.pid)).toBe(false);
    expect(alive(supervisor)).toBe(false);
  });
});
