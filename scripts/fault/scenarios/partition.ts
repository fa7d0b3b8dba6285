// (c) Network partitions between an agent and the orchestrator, made with a
// TCP proxy in front of the orchestrator (cut every connection, and stall
// new ones until healed).
//   short: shorter than the lost-device time: the agent reconnects, resumes
//          its session, nothing is rerun;
//   long:  longer: the device is lost, its tasks rerun on another agent, the
//          partitioned agent's late results are recorded as stale, nothing
//          completes twice; the side effects ran twice (at-least-once);
//   lease: the same long partition against an agent started with
//          --stop-after-disconnect below the lost-device time: it kills its
//          tasks in time, so every side effect ran exactly once.
import { join } from 'node:path';
import { TcpProxy } from '../../../protocol/test/support/tcp-proxy.js';
import { startAgent, startOrchestrator, waitFor } from '../../testing/stack.js';
import {
  allowedExecutions,
  countStates,
  type ConstellationView,
  Executions,
  layeredGraph,
  metric,
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

export interface PartitionOptions extends ScenarioOptions {
  heartbeatMs?: number;
}


/** Cuts every connection through the proxies and refuses to forward new ones until healed. */
function partition(proxies: TcpProxy[]): void {
  for (const p of proxies) {
    p.stall(true);
    p.cutAll();
  }
}

function heal(proxies: TcpProxy[]): void {
  for (const p of proxies) p.stall(false);
}

export async function shortPartitionScenario(opts: PartitionOptions = {}): Promise<ScenarioReport> {
  const hb = opts.heartbeatMs ?? 600;
  const procs = new Processes();
  const ex = new Executions(join(workDir('short-partition'), 'executions'));
  try {
    const orch = procs.add(await startOrchestrator({ heartbeatMs: hb }));
    const proxy = await TcpProxy.start(Number(new URL(orch.url).port));
    procs.onCleanup(() => proxy.close());
    const far = procs.add(
      startAgent({
        server: `ws://127.0.0.1:${proxy.port}/v1/aip`,
        name: 'far',
        labels: ['p'],
        slots: 2,
        args: ['--reconnect-max-ms', '200'],
      }),
    );
    await waitDevices(orch.url, ['far'], 'online');
    const graph = layeredGraph('short-partition', ex, {
      layers: 1,
      width: 2,
      sleep: 2,
      target: { labels: ['p'] },
    });
    const c = await submit(orch.url, graph);
    await waitFor(async () => runningOn(await getC(orch.url, c.id), 'far') >= 2, 'both tasks running on far', 20_000);
    const partitionMs = Math.round(hb / 2);
    partition([proxy]);
    await sleep(partitionMs);
    const healedAt = Date.now();
    heal([proxy]);
    await waitFor(() => /"resumed":true/.test(far.output()), 'the agent to resume its session', 10_000);
    const resumeMs = Date.now() - healedAt;
    const done = await waitFinished(() => orch.url, c.id, 30_000);
    const attempts = Object.values(done.tasks).map((t) => t.attempts.length);
    const lost = await metric(orch.url, 'orrery_devices_lost_total');
    return report({
      id: 'c1',
      title: 'short partition (< 3 heartbeats)',
      injected: `connections of one agent cut and blocked for ${partitionMs} ms (heartbeat ${hb} ms, lost after ${3 * hb} ms)`,
      finalStates: countStates(done),
      expectedStates: { succeeded: 2 },
      ex,
      allowed: allowedExecutions(graph),
      recovery: { ms: resumeMs, what: 'heal → session resumed' },
      notes: [`attempts per task: ${attempts.join(', ')}; devices lost: ${lost}`],
      extraOk: attempts.every((n) => n === 1) && lost === 0,
      facts: { attempts, devicesLost: lost, resumed: true },
    });
  } finally {
    await procs.killAll();
  }
}

function getC(url: string, id: string): Promise<ConstellationView> {
  return fetch(new URL(`/v1/constellations/${id}`, url)).then((r) => r.json() as Promise<ConstellationView>);
}

/**
 * Long partitions, two agents cut off at once: `far` runs with default
 * settings, `leased` with --stop-after-disconnect. A spare agent joins while
 * they are away and takes over their tasks.
 */
export async function longPartitionScenario(opts: PartitionOptions = {}): Promise<ScenarioReport[]> {
  const hb = opts.heartbeatMs ?? 600;
  const lostAfter = 3 * hb;
  const leaseMs = hb; // well below the lost-device time
  // Longer than the partition: the heal comes while the cut-off copies still
  // run, so the orchestrator's Cancel (replayed on resume) is what stops them.
  const taskSeconds = opts.quick ? 8 : 10;
  const procs = new Processes();
  const dir = workDir('long-partition');
  const exFar = new Executions(join(dir, 'executions-far'));
  const exLeased = new Executions(join(dir, 'executions-leased'));
  try {
    const orch = procs.add(await startOrchestrator({ heartbeatMs: hb }));
    const port = Number(new URL(orch.url).port);
    const proxies = [await TcpProxy.start(port), await TcpProxy.start(port)];
    procs.onCleanup(() => Promise.all(proxies.map((p) => p.close())).then(() => undefined));
    const via = (p: TcpProxy): string => `ws://127.0.0.1:${p.port}/v1/aip`;
    const reconnect = ['--reconnect-max-ms', '300'];
    procs.add(
      startAgent({
        server: via(proxies[0] as TcpProxy),
        name: 'far',
        labels: ['a'],
        slots: 2,
        args: reconnect,
      }),
    );
    procs.add(
      startAgent({
        server: via(proxies[1] as TcpProxy),
        name: 'leased',
        labels: ['b'],
        slots: 2,
        args: [...reconnect, '--stop-after-disconnect', String(leaseMs)],
      }),
    );
    await waitDevices(orch.url, ['far', 'leased'], 'online');

    const gFar = layeredGraph('long-partition', exFar, {
      layers: 1,
      width: 2,
      sleep: taskSeconds,
      target: { labels: ['a'] },
    });
    const gLeased = layeredGraph('long-partition-leased', exLeased, {
      layers: 1,
      width: 2,
      sleep: taskSeconds,
      target: { labels: ['b'] },
    });
    const cFar = await submit(orch.url, gFar);
    const cLeased = await submit(orch.url, gLeased);
    await waitFor(
      async () =>
        runningOn(await getC(orch.url, cFar.id), 'far') >= 2 && runningOn(await getC(orch.url, cLeased.id), 'leased') >= 2,
      'tasks running on the agents about to be cut off',
      20_000,
    );
    const staleBefore = await metric(orch.url, 'orrery_stale_results_total');
    partition(proxies);
    const cutAt = Date.now();
    procs.add(
      startAgent({
        server: orch.aipUrl,
        name: 'spare',
        labels: ['a', 'b'],
        slots: 4,
      }),
    );
    await waitDevices(orch.url, ['far', 'leased'], 'lost', 30_000);
    const lostMs = Date.now() - cutAt;
    // Keep them away until the spare has taken over, then heal.
    await waitFor(
      async () => {
        const [a, b] = [await getC(orch.url, cFar.id), await getC(orch.url, cLeased.id)];
        return [a, b].every((c) => Object.values(c.tasks).every((t) => t.attempts.at(-1)?.deviceId === 'dev-spare'));
      },
      'the spare agent to take over',
      30_000,
    );
    const partitionMs = Date.now() - cutAt;
    heal(proxies);
    const [doneFar, doneLeased] = await Promise.all([
      waitFinished(() => orch.url, cFar.id, 60_000),
      waitFinished(() => orch.url, cLeased.id, 60_000),
    ]);
    // The cut-off agents' own results arrive after the heal: far's when its tasks end, leased's at once (INTERRUPTED).
    await waitFor(
      async () => (await metric(orch.url, 'orrery_stale_results_total')) - staleBefore >= 4,
      'four stale results',
      taskSeconds * 1000 + 20_000,
    ).catch(() => undefined);
    const stale = (await metric(orch.url, 'orrery_stale_results_total')) - staleBefore;
    await waitDevices(orch.url, ['far', 'leased'], 'online', 20_000).catch(() => undefined);

    const shape = (c: ConstellationView) =>
      Object.fromEntries(
        Object.entries(c.tasks).map(([id, t]) => [
          id,
          t.attempts.map((a) => `${a.deviceId.replace('dev-', '')}:${a.outcome ?? '-'}`).join(' '),
        ]),
      );
    const succeededOnce = (c: ConstellationView) =>
      Object.values(c.tasks).every((t) => t.attempts.filter((a) => a.outcome === 'succeeded').length === 1);
    const firstLost = (c: ConstellationView, dev: string) =>
      Object.values(c.tasks).every(
        (t) => t.attempts[0]?.deviceId === `dev-${dev}` && t.attempts[0]?.outcome === 'lost',
      );
    const common = {
      recovery: {
        ms: lostMs,
        what: `cut → device lost (heartbeat ${hb} ms, lost after ${lostAfter} ms); partition held ${partitionMs} ms`,
      },
    };
    return [
      report({
        id: 'c2',
        title: 'long partition (> 3 heartbeats)',
        injected: `connections of one agent cut and blocked for ${partitionMs} ms; a spare agent joins meanwhile`,
        finalStates: countStates(doneFar),
        expectedStates: { succeeded: 2 },
        ex: exFar,
        allowed: allowedExecutions(gFar),
        atLeastOnce: true,
        ...common,
        notes: [
          `attempts: ${JSON.stringify(shape(doneFar))}`,
          `stale results recorded (both agents): ${stale}`,
          `side effects: ${exFar.count} for 2 tasks (after the heal the replayed Cancel stopped the cut-off copies)`,
        ],
        extraOk: succeededOnce(doneFar) && firstLost(doneFar, 'far'),
        facts: {
          attempts: shape(doneFar),
          stale,
          succeededOnce: succeededOnce(doneFar),
          firstLost: firstLost(doneFar, 'far'),
          lostMs,
        },
      }),
      report({
        id: 'c3',
        title: 'long partition, agent with --stop-after-disconnect',
        injected: `same partition, agent started with --stop-after-disconnect ${leaseMs}`,
        finalStates: countStates(doneLeased),
        expectedStates: { succeeded: 2 },
        ex: exLeased,
        allowed: allowedExecutions(gLeased),
        ...common,
        notes: [
          `attempts: ${JSON.stringify(shape(doneLeased))}`,
          `side effects: ${exLeased.count} for 2 tasks (killed before the orchestrator gave up on it)`,
        ],
        extraOk: succeededOnce(doneLeased) && firstLost(doneLeased, 'leased'),
        facts: {
          attempts: shape(doneLeased),
          stale,
          succeededOnce: succeededOnce(doneLeased),
          firstLost: firstLost(doneLeased, 'leased'),
        },
      }),
    ];
  } finally {
    await procs.killAll();
  }
}
