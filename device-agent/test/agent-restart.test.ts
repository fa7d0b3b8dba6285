// An agent killed (SIGKILL) in the middle of a task reports that attempt as
// INTERRUPTED on its next start, exactly once, and kills the orphaned tree.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeviceAgent } from '../src/agent.js';
import { FakeSession } from './fake-session.js';
import { pidAlive, tempDir, waitFor } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'crash-agent.mjs');

describe.skipIf(process.platform === 'win32')('agent restart in the middle of a task', () => {
  let tmp: ReturnType<typeof tempDir>;
  let child: ChildProcess | undefined;
  let agent: DeviceAgent | undefined;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await agent?.stop({ drain: false });
    tmp.cleanup();
  });

  async function restart(): Promise<FakeSession> {
    let session!: FakeSession;
    agent = new DeviceAgent({
      serverUrl: 'ws://127.0.0.1:1',
      dataDir: path.join(tmp.dir, 'data'),
      flushTimeoutMs: 100,
      createSession: (c) => {
        session = new FakeSession(c);
        return session;
      },
    });
    await agent.start();
    return session;
  }

  it('reports INTERRUPTED once and kills the orphaned process group', async () => {
    expect(existsSync(path.join(here, '..', 'dist', 'index.js'))).toBe(true); // built by `npm test`
    const dataDir = path.join(tmp.dir, 'data');
    const bgFile = path.join(tmp.dir, 'bg');
    child = spawn(process.execPath, [fixture, dataDir, `sleep 30 & echo $! > ${bgFile}; wait`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => out.includes('READY') && existsSync(bgFile) && readFileSync(bgFile, 'utf8').trim() !== '', 10_000);
    const bg = Number(readFileSync(bgFile, 'utf8').trim());
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    child = undefined;
    // The task outlived its agent: an orphan.
    expect(pidAlive(bg)).toBe(true);

    const s1 = await restart();
    const results = s1.of('result');
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ constellationId: 'c', taskId: 'long', attempt: 2, outcome: 'INTERRUPTED' });
    expect(s1.config.taskReports?.()).toEqual([{ constellationId: 'c', taskId: 'long', attempt: 2, state: 'interrupted' }]);
    await waitFor(() => !pidAlive(bg), 3_000);
    // Not acknowledged yet: a second restart re-sends it, still once.
    await agent?.stop({ drain: true });
    const s2 = await restart();
    expect(s2.of('result')).toHaveLength(1);
    expect(s2.of('result')[0]?.outcome).toBe('INTERRUPTED');
    s2.ackAll();
    await agent?.stop({ drain: true });
    const s3 = await restart();
    expect(s3.sent).toEqual([]);
  });
});
