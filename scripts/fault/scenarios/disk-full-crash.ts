// (e2) The disk is full and then the orchestrator is SIGKILLed. Results that
// arrived while the journal could not be written were held in memory only;
// the question is whether they survive the crash. The agent removes a
// Result from its outbox once the orchestrator's session acknowledges it,
// and that acknowledgement is sent on receipt, not after the journal commit.
import { join } from 'node:path';
import { api, startAgent, startOrchestrator, waitFor } from '../../testing/stack.js';
import {
  countStates,
  Executions,
  getConstellation,
  health,
  Processes,
  report,
  type ScenarioOptions,
  type ScenarioReport,
  skippedReport,
  sleep,
  submit,
  waitDevices,
  waitFinished,
  workDir,
} from '../lib.js';
import { mountTmpfs, tmpfsSupport } from '../tmpfs.js';

const TITLE = 'disk full, then orchestrator kill -9';

export async function diskFullCrashScenario(opts: ScenarioOptions = {}): Promise<ScenarioReport> {
  const support = tmpfsSupport();
  const injected = 'data dir on a 16 MiB tmpfs filled while 3 tasks run; they finish; SIGKILL; space freed; restart';
  if (!support.ok) return skippedReport('e2', TITLE, injected, support.why ?? 'no tmpfs');
  const log = opts.log ?? (() => undefined);
  const procs = new Processes();
  const fs = mountTmpfs(16);
  procs.onCleanup(() => fs.unmount());
  const ex = new Executions(join(workDir('disk-full-crash'), 'executions'));
  const dataDir = join(fs.dir, 'data');
  try {
    let orch = procs.add(await startOrchestrator({ dataDir, heartbeatMs: 500 }));
    const port = Number(new URL(orch.url).port);
    procs.add(startAgent({ server: orch.aipUrl, name: 'dfc', slots: 3, args: ['--reconnect-max-ms', '300'] }));
    await waitDevices(orch.url, ['dfc'], 'online');
    const g = {
      name: 'crash-while-full',
      tasks: Object.fromEntries(['k0', 'k1', 'k2'].map((id) => [id, { run: ex.command(id, 1.5) }])),
    };
    const c = await submit(orch.url, g);
    await waitFor(
      async () => Object.values((await getConstellation(orch.url, c.id)).tasks).every((t) => t.status === 'running'),
      'tasks running',
      20_000,
    );
    fs.fill();
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 400; i++)
      big[`big${i}`] = { run: 'true', description: 'x'.repeat(2000), target: { labels: ['nobody'] } };
    await api(orch.url, 'POST', '/v1/constellations', { name: 'while-full', tasks: big }).catch(() => undefined);
    await waitFor(async () => (await health(orch.url))?.status === 'degraded', '/healthz degraded', 20_000);
    await waitFor(() => ex.count >= 3, 'the tasks to finish while the disk is full', 20_000);
    await sleep(1000); // their Results reach the orchestrator and are acknowledged
    const seenBeforeCrash = countStates(await getConstellation(orch.url, c.id));
    await orch.kill('SIGKILL');
    fs.free();
    log(`  killed while full; the API showed ${JSON.stringify(seenBeforeCrash)} (not journaled)`);
    orch = procs.add(await startOrchestrator({ dataDir, port, heartbeatMs: 500 }));
    const done = await waitFinished(() => orch.url, c.id, 60_000);
    await sleep(500);
    const attempts = Object.fromEntries(
      Object.entries(done.tasks).map(([id, t]) => [id, t.attempts.map((a) => a.outcome ?? '-').join(' ')]),
    );
    return report({
      id: 'e2',
      title: TITLE,
      injected,
      finalStates: countStates(done),
      expectedStates: { succeeded: 3 },
      ex,
      allowed: 3,
      notes: [
        `before the kill the API showed ${JSON.stringify(seenBeforeCrash)}, but nothing of it was journaled`,
        `after the restart: attempts ${JSON.stringify(attempts)}; side effects ${ex.count} for 3 tasks`,
        ex.count > 3
          ? 'BUG: the results were acknowledged to the agent (which dropped them from its outbox) before they were journaled; the crash lost them and the tasks ran again'
          : 'the results survived the crash',
      ],
      facts: { attempts, seenBeforeCrash },
    });
  } finally {
    await procs.killAll();
  }
}
