// (b) The orchestrator is SIGKILLed several times in a row at random moments
// of a run and restarted each time on the same data dir and port. Every task
// must complete exactly once: its side effect ran once, its state is
// succeeded, and no completion was lost or counted twice.
import { startAgent, startOrchestrator, waitFor } from '../../testing/stack.js';
import {
  allowedExecutions,
  countStates,
  Executions,
  health,
  layeredGraph,
  Processes,
  report,
  type ScenarioOptions,
  type ScenarioReport,
  submit,
  waitDevices,
  waitFinished,
  workDir,
} from '../lib.js';
import { join } from 'node:path';

/** A small seeded PRNG, so a run's kill moments can be repeated (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function orchestratorKillScenario(
  opts: ScenarioOptions & { kills?: number; seed?: number } = {},
): Promise<ScenarioReport> {
  const log = opts.log ?? (() => undefined);
  const kills = opts.kills ?? (opts.quick ? 2 : 5);
  const seed = opts.seed ?? Date.now() % 100_000;
  const random = seededRandom(seed);
  const procs = new Processes();
  const ex = new Executions(join(workDir('orch-kill'), 'executions'));
  const heartbeatMs = 300;
  try {
    let orch = procs.add(await startOrchestrator({ heartbeatMs }));
    const port = Number(new URL(orch.url).port);
    const names = ['k1', 'k2'];
    for (const name of names)
      procs.add(
        startAgent({
          server: orch.aipUrl,
          name,
          slots: 2,
          args: ['--reconnect-max-ms', '300'],
        }),
      );
    await waitDevices(orch.url, names, 'online');

    const graph = layeredGraph('orchestrator-kill', ex, {
      layers: opts.quick ? 6 : 10,
      width: 4,
      sleep: 0.15,
    });
    const total = Object.keys(graph.tasks).length;
    const c = await submit(orch.url, graph);
    const restartMs: number[] = [];
    const devicesBackMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      // A random moment after some progress since the last restart.
      const before = ex.count;
      await waitFor(() => ex.count > before || ex.count >= total, 'progress before the next kill', 30_000);
      if (ex.count >= total) break;
      await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
      await orch.kill('SIGKILL');
      const killedAt = Date.now();
      log(`  kill ${k + 1}: orchestrator SIGKILLed with ${ex.count}/${total} side effects done`);
      orch = procs.add(await startOrchestrator({ dataDir: orch.dataDir, port, heartbeatMs }));
      await waitFor(async () => (await health(orch.url))?.status === 'ok', 'healthz ok', 30_000, 10);
      restartMs.push(Date.now() - killedAt);
      await waitDevices(orch.url, names, 'online', 30_000);
      devicesBackMs.push(Date.now() - killedAt);
    }
    const done = await waitFinished(() => orch.url, c.id, 120_000);
    const max = (xs: number[]): number => (xs.length ? Math.max(...xs) : 0);
    // Completion accounting: exactly one succeeded attempt per task; attempts the crash cut short are `lost`, never a second success.
    const succeededOnce = Object.values(done.tasks).every(
      (t) => t.attempts.filter((a) => a.outcome === 'succeeded').length === 1,
    );
    const reran = Object.values(done.tasks).filter((t) => t.attempts.length > 1).length;
    return report({
      id: 'b',
      title: 'orchestrator kill -9, restart (repeated)',
      injected: `${restartMs.length} × SIGKILL of the orchestrator at random moments (seed ${seed}), restart on the same data dir and port`,
      finalStates: countStates(done),
      expectedStates: { succeeded: total },
      ex,
      allowed: allowedExecutions(graph),
      recovery: {
        ms: max(devicesBackMs),
        what: `kill → all agents online (worst of ${devicesBackMs.length}); kill → /healthz ok ${max(restartMs)} ms`,
      },
      notes: [
        `constellation ${done.status}; one succeeded attempt per task: ${succeededOnce}; tasks with more than one attempt: ${reran}`,
      ],
      extraOk: succeededOnce,
      facts: {
        succeededOnce,
        reran,
        kills: restartMs.length,
        total,
        constellationStatus: done.status,
        restartMs,
        devicesBackMs,
        seed,
      },
    });
  } finally {
    await procs.killAll();
  }
}
