// (a) An agent is SIGKILLed while its tasks run. The orchestrator declares
// it lost after 3 missed heartbeats and reruns its tasks elsewhere (without
// using a retry). The killed agent's task processes run in their own process
// group, so they outlive it:
//   a1 agent not restarted: the orphans finish and their side effects happen
//      a second time (at-least-once), though the orchestrator counts only the
//      rerun's completion;
//   a2 agent restarted at once on the same data dir: it kills the orphaned
//      process groups of its previous run before they finish, reports those
//      attempts INTERRUPTED, and every side effect runs once.
import { join } from 'node:path';
import { startAgent, startOrchestrator, waitFor } from '../../testing/stack.js';
import {
  allowedExecutions,
  countStates,
  type ConstellationView,
  Executions,
  getConstellation,
  layeredGraph,
  Processes,
  report,
  runningOn,
  type ScenarioOptions,
  type ScenarioReport,
  sleep,
  submit,
  waitDevices,
  waitFinished,
  workDir,
} from '../lib.js';


const shape = (c: ConstellationView) =>
  Object.fromEntries(
    Object.entries(c.tasks).map(([id, t]) => [
      id,
      t.attempts.map((a) => `${a.deviceId.replace('dev-', '')}:${a.outcome ?? '-'}`).join(' '),
    ]),
  );

export async function agentKillScenario(opts: ScenarioOptions = {}): Promise<ScenarioReport[]> {
  const hb = 300;
  const taskSeconds = 3;
  const width = opts.quick ? 2 : 4;
  const procs = new Processes();
  const dir = workDir('agent-kill');
  const exA = new Executions(join(dir, 'executions-not-restarted'));
  const exB = new Executions(join(dir, 'executions-restarted'));
  try {
    const orch = procs.add(await startOrchestrator({ heartbeatMs: hb }));
    const doomed = procs.add(startAgent({ server: orch.aipUrl, name: 'doomed', labels: ['a'], slots: width }));
    const phoenix = procs.add(
      startAgent({
        server: orch.aipUrl,
        name: 'phoenix',
        labels: ['b'],
        slots: width,
        args: ['--reconnect-max-ms', '300'],
      }),
    );
    await waitDevices(orch.url, ['doomed', 'phoenix'], 'online');
    const ga = layeredGraph('agent-kill', exA, { layers: 1, width, sleep: taskSeconds, target: { labels: ['a'] } });
    const gb = layeredGraph('agent-kill-restart', exB, {
      layers: 1,
      width,
      sleep: taskSeconds,
      target: { labels: ['b'] },
    });
    const [ca, cb] = [await submit(orch.url, ga), await submit(orch.url, gb)];
    await waitFor(
      async () =>
        runningOn(await getConstellation(orch.url, ca.id), 'doomed') === width &&
        runningOn(await getConstellation(orch.url, cb.id), 'phoenix') === width,
      'tasks running on both agents',
      20_000,
    );
    await Promise.all([doomed.kill('SIGKILL'), phoenix.kill('SIGKILL')]);
    const killedAt = Date.now();
    // phoenix comes back at once on the same data dir; doomed never does, a spare takes its work.
    const reborn = procs.add(
      startAgent({ server: orch.aipUrl, name: 'phoenix', labels: ['b'], slots: width, dataDir: phoenix.dataDir }),
    );
    procs.add(startAgent({ server: orch.aipUrl, name: 'spare', labels: ['a'], slots: width }));
    await waitFor(
      async () => runningOn(await getConstellation(orch.url, ca.id), 'spare') + exA.count > 0,
      'the spare to take over',
      30_000,
    );
    const takeoverMs = Date.now() - killedAt;
    await waitDevices(orch.url, ['phoenix'], 'online', 30_000);
    const rebornMs = Date.now() - killedAt;
    const [doneA, doneB] = await Promise.all([
      waitFinished(() => orch.url, ca.id, 60_000),
      waitFinished(() => orch.url, cb.id, 60_000),
    ]);
    // Give any orphan time to reach its side effect.
    await waitFor(
      () => exA.count >= 2 * width,
      'the orphans of the killed agent to finish',
      taskSeconds * 1000 + 10_000,
    ).catch(() => undefined);
    await sleep(Math.max(0, killedAt + taskSeconds * 1000 + 1000 - Date.now()));
    const orphansKilled = (reborn.output().match(/killed orphaned task process group/g) ?? []).length;
    return [
      report({
        id: 'a1',
        title: 'agent kill -9, not restarted',
        injected: `SIGKILL of an agent running ${width} tasks (${taskSeconds} s each); a spare agent joins`,
        finalStates: countStates(doneA),
        expectedStates: { succeeded: width },
        ex: exA,
        allowed: allowedExecutions(ga),
        atLeastOnce: true,
        recovery: {
          ms: takeoverMs,
          what: `kill → tasks rerunning on the spare (heartbeat ${hb} ms, lost after ${3 * hb} ms, plus the spare's start)`,
        },
        notes: [
          `attempts: ${JSON.stringify(shape(doneA))}`,
          `side effects: ${exA.count} for ${width} tasks: the orphaned task processes of the killed agent finished too`,
        ],
        extraOk: Object.values(doneA.tasks).every(
          (t) => t.attempts[0]?.outcome === 'lost' && t.attempts.filter((a) => a.outcome === 'succeeded').length === 1,
        ),
        facts: { attempts: shape(doneA), orphanEffects: exA.count - width },
      }),
      report({
        id: 'a2',
        title: 'agent kill -9, restarted at once',
        injected: `SIGKILL of an agent running ${width} tasks, restarted on the same data dir`,
        finalStates: countStates(doneB),
        expectedStates: { succeeded: width },
        ex: exB,
        allowed: allowedExecutions(gb),
        recovery: { ms: rebornMs, what: 'kill → restarted agent online' },
        notes: [
          `attempts: ${JSON.stringify(shape(doneB))}`,
          `orphaned process groups killed by the restarted agent: ${orphansKilled}`,
        ],
        extraOk: orphansKilled === width,
        facts: { attempts: shape(doneB), orphansKilled },
      }),
    ];
  } finally {
    await procs.killAll();
  }
}
