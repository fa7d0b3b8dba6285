// (d) A slow, then a stalled agent, through the TCP proxy.
//   d1 slow: every chunk in both directions is delayed (well below the
//      lost-device time): a chain runs slower, nothing is lost or rerun;
//   d2 stalled: the connection stays open but nothing flows (no FIN, no
//      RST) for longer than the lost-device time. Both sides must notice
//      the silence by themselves: the orchestrator declares the device lost
//      and reruns its tasks on a spare; the agent drops the dead connection,
//      keeps running its tasks, and once traffic flows again resumes its
//      session and delivers their (now stale) results.
import { join } from 'node:path';
import { TcpProxy } from '../../../protocol/test/support/tcp-proxy.js';
import { startAgent, startOrchestrator, waitFor } from '../../testing/stack.js';
import {
  allowedExecutions,
  countStates,
  type ConstellationView,
  Executions,
  getConstellation,
  metric,
  Processes,
  report,
  type ScenarioOptions,
  type ScenarioReport,
  submit,
  waitDevices,
  waitFinished,
  workDir,
} from '../lib.js';

function chain(
  name: string,
  ex: Executions,
  n: number,
  prefix: string,
): { name: string; tasks: Record<string, unknown> } {
  const tasks: Record<string, unknown> = {};
  for (let i = 0; i < n; i++)
    tasks[`${prefix}${i}`] = {
      run: ex.command(`${prefix}${i}`, 0),
      target: { labels: ['s'] },
      ...(i ? { needs: [`${prefix}${i - 1}`] } : {}),
    };
  return { name, tasks };
}

const shape = (c: ConstellationView) =>
  Object.fromEntries(
    Object.entries(c.tasks).map(([id, t]) => [
      id,
      t.attempts.map((a) => `${a.deviceId.replace('dev-', '')}:${a.outcome ?? '-'}`).join(' '),
    ]),
  );

export async function slowAgentScenario(opts: ScenarioOptions = {}): Promise<ScenarioReport[]> {
  const hb = 500;
  const delayMs = 150;
  const n = opts.quick ? 5 : 10;
  const procs = new Processes();
  const dir = workDir('slow');
  const exSlow = new Executions(join(dir, 'executions-slow'));
  const exStall = new Executions(join(dir, 'executions-stall'));
  const exLeased = new Executions(join(dir, 'executions-stall-leased'));
  try {
    const orch = procs.add(await startOrchestrator({ heartbeatMs: hb }));
    const proxy = await TcpProxy.start(Number(new URL(orch.url).port));
    procs.onCleanup(() => proxy.close());
    procs.add(
      startAgent({
        server: `ws://127.0.0.1:${proxy.port}/v1/aip`,
        name: 'slow',
        labels: ['s'],
        slots: 2,
        args: ['--reconnect-max-ms', '300'],
      }),
    );
    // d3's agent: its own proxy, and a lease of one heartbeat interval.
    const proxy2 = await TcpProxy.start(Number(new URL(orch.url).port));
    procs.onCleanup(() => proxy2.close());
    procs.add(
      startAgent({
        server: `ws://127.0.0.1:${proxy2.port}/v1/aip`,
        name: 'stalled-leased',
        labels: ['t'],
        slots: 2,
        args: ['--reconnect-max-ms', '300', '--stop-after-disconnect', String(hb)],
      }),
    );
    await waitDevices(orch.url, ['slow', 'stalled-leased'], 'online');

    // d1: a chain, first at full speed, then with every chunk delayed.
    const t0 = Date.now();
    const base = await waitFinished(
      () => orch.url,
      (await submit(orch.url, chain('chain-fast', exSlow, n, 'f'))).id,
      60_000,
    );
    const fastMs = Date.now() - t0;
    proxy.delayMs = delayMs;
    const t1 = Date.now();
    const slow = await waitFinished(
      () => orch.url,
      (await submit(orch.url, chain('chain-slow', exSlow, n, 'w'))).id,
      60_000,
    );
    const slowMs = Date.now() - t1;
    proxy.delayMs = 0;
    const lostAfterSlow = await metric(orch.url, 'orrery_devices_lost_total');
    const singleAttempts = [...Object.values(base.tasks), ...Object.values(slow.tasks)].every(
      (t) => t.attempts.length === 1,
    );

    // d2: a stall longer than the lost-device time, with two tasks running.
    const staleBefore = await metric(orch.url, 'orrery_stale_results_total');
    const g = {
      name: 'stalled',
      tasks: Object.fromEntries(
        ['x0', 'x1'].map((id) => [id, { run: exStall.command(id, 3), target: { labels: ['s'] } }]),
      ),
    };
    const g3 = {
      name: 'stalled-leased',
      tasks: Object.fromEntries(
        ['y0', 'y1'].map((id) => [id, { run: exLeased.command(id, 3), target: { labels: ['t'] } }]),
      ),
    };
    const c = await submit(orch.url, g);
    const c3 = await submit(orch.url, g3);
    await waitFor(
      async () =>
        Object.values((await getConstellation(orch.url, c.id)).tasks).every((t) => t.status === 'running') &&
        Object.values((await getConstellation(orch.url, c3.id)).tasks).every((t) => t.status === 'running'),
      'tasks running on the slow agent',
      20_000,
    );
    proxy.stall(true);
    proxy2.stall(true);
    const stalledAt = Date.now();
    procs.add(startAgent({ server: orch.aipUrl, name: 'spare', labels: ['s', 't'], slots: 4 }));
    await waitDevices(orch.url, ['slow', 'stalled-leased'], 'lost', 30_000);
    const lostMs = Date.now() - stalledAt;
    await waitFor(
      async () =>
        [await getConstellation(orch.url, c.id), await getConstellation(orch.url, c3.id)].every((v) =>
          Object.values(v.tasks).every((t) => t.attempts.at(-1)?.deviceId === 'dev-spare'),
        ),
      'the spare to take over',
      30_000,
    );
    const stallMs = Date.now() - stalledAt;
    proxy.stall(false);
    proxy2.stall(false);
    const done = await waitFinished(() => orch.url, c.id, 60_000);
    const done3 = await waitFinished(() => orch.url, c3.id, 60_000);
    await waitFor(
      async () => (await metric(orch.url, 'orrery_stale_results_total')) - staleBefore >= 4,
      'stale results',
      20_000,
    ).catch(() => undefined);
    await waitFor(() => exStall.count >= 4, 'the stalled agent to finish its copies', 20_000).catch(() => undefined);
    const stale = (await metric(orch.url, 'orrery_stale_results_total')) - staleBefore;
    const backOnline = await waitDevices(orch.url, ['slow'], 'online', 20_000).catch(() => false);
    return [
      report({
        id: 'd1',
        title: 'slow agent (delayed traffic)',
        injected: `every chunk to and from one agent delayed ${delayMs} ms, ${n}-task chain`,
        finalStates: countStates(slow),
        expectedStates: { succeeded: n },
        ex: exSlow,
        allowed: allowedExecutions(chain('', exSlow, n, 'f')) + allowedExecutions(chain('', exSlow, n, 'w')),
        notes: [
          `chain of ${n}: ${fastMs} ms at full speed, ${slowMs} ms delayed (${Math.round((slowMs - fastMs) / n)} ms more per task)`,
          `devices lost: ${lostAfterSlow}; every task one attempt: ${singleAttempts}`,
        ],
        extraOk: lostAfterSlow === 0 && singleAttempts,
        facts: { fastMs, slowMs, lost: lostAfterSlow, singleAttempts },
      }),
      report({
        id: 'd2',
        title: 'stalled agent (no traffic, connection open)',
        injected: `traffic of one agent stopped for ${stallMs} ms without closing its connection; a spare joins`,
        finalStates: countStates(done),
        expectedStates: { succeeded: 2 },
        ex: exStall,
        allowed: allowedExecutions(g),
        atLeastOnce: true,
        recovery: { ms: lostMs, what: `stall → device lost (heartbeat ${hb} ms)` },
        notes: [
          `attempts: ${JSON.stringify(shape(done))}; stale results (d2 and d3): ${stale}; slow agent back online after the stall: ${Boolean(backOnline)}`,
          `side effects: ${exStall.count} for 2 tasks (the stalled agent finished its copies: at-least-once)`,
        ],
        extraOk: Object.values(done.tasks).every(
          (t) => t.attempts[0]?.outcome === 'lost' && t.attempts.filter((a) => a.outcome === 'succeeded').length === 1,
        ),
        facts: { attempts: shape(done), stale, backOnline: Boolean(backOnline) },
      }),
      report({
        id: 'd3',
        title: 'stalled agent with --stop-after-disconnect',
        injected: `d2's stall, agent started with --stop-after-disconnect ${hb}`,
        finalStates: countStates(done3),
        expectedStates: { succeeded: 2 },
        ex: exLeased,
        allowed: allowedExecutions(g3),
        recovery: { ms: lostMs, what: `stall → device lost (heartbeat ${hb} ms)` },
        notes: [
          `attempts: ${JSON.stringify(shape(done3))}`,
          `side effects: ${exLeased.count} for 2 tasks (the agent noticed the silence after 2 intervals and killed its tasks)`,
        ],
        extraOk: Object.values(done3.tasks).every(
          (t) => t.attempts[0]?.outcome === 'lost' && t.attempts.filter((a) => a.outcome === 'succeeded').length === 1,
        ),
        facts: { attempts: shape(done3) },
      }),
    ];
  } finally {
    await procs.killAll();
  }
}
