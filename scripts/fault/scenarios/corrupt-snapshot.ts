// (f) A damaged snapshot. The orchestrator runs with --snapshot-every so it
// writes snapshots during a small run; it is SIGKILLed in the middle of a
// second graph, and the newest snapshot row is damaged with better-sqlite3
// (data changed, checksum not). On restart it must notice the mismatch, fall
// back to the older snapshot plus the journal after it, and lose nothing.
// Variant: both snapshots damaged after compaction: the journal alone is no
// longer the whole story, so the orchestrator must refuse to start
// (STORE_CORRUPT) rather than come up with a partial state.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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
  type ScenarioOptions,
  type ScenarioReport,
  sleep,
  submit,
  waitDevices,
  waitFinished,
  workDir,
} from '../lib.js';

interface SnapshotRow {
  seq: number;
}

function snapshotSeqs(dataDir: string): number[] {
  const db = new Database(join(dataDir, 'orrery.db'), {
    readonly: true,
    fileMustExist: true,
  });
  try {
    return (db.prepare('SELECT seq FROM snapshots ORDER BY seq').all() as SnapshotRow[]).map((r) => r.seq);
  } finally {
    db.close();
  }
}

/** Changes the tail of a snapshot's JSON text, leaving its checksum as it was. */
function damageSnapshot(dataDir: string, seq: number): void {
  const db = new Database(join(dataDir, 'orrery.db'), { fileMustExist: true });
  try {
    db.prepare(
      'UPDATE snapshots SET data = substr(data, 1, length(data) - 16) || \'"bitrot-bitrot"}}\' WHERE seq = ?',
    ).run(seq);
  } finally {
    db.close();
  }
}

/** Every retained snapshot with whether its checksum verifies. */
function snapshotHealth(dataDir: string): Array<{ seq: number; valid: boolean }> {
  const db = new Database(join(dataDir, 'orrery.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT seq, checksum, data FROM snapshots ORDER BY seq').all() as Array<{
      seq: number;
      checksum: string;
      data: string;
    }>;
    return rows.map((r) => ({ seq: r.seq, valid: createHash('sha256').update(r.data).digest('hex') === r.checksum }));
  } finally {
    db.close();
  }
}

function recoveredFrom(output: string): number | undefined {
  for (const line of output.split('\n').reverse()) {
    if (!line.includes('state recovered from the journal')) continue;
    try {
      return (JSON.parse(line) as { snapshotSeq?: number }).snapshotSeq;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

const view = (c: ConstellationView) =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(c.tasks).map(([id, t]) => [
        id,
        [t.status, t.attempts.map((a) => [a.number, a.deviceId, a.outcome])],
      ]),
    ),
  );

export async function corruptSnapshotScenario(opts: ScenarioOptions = {}): Promise<ScenarioReport[]> {
  const procs = new Processes();
  const ex = new Executions(join(workDir('snapshot'), 'executions'));
  const snapshotEvery = 25;
  const args = ['--snapshot-every', String(snapshotEvery)];
  try {
    let orch = procs.add(await startOrchestrator({ heartbeatMs: 500, args }));
    const port = Number(new URL(orch.url).port);
    procs.add(
      startAgent({
        server: orch.aipUrl,
        name: 'snap',
        slots: 3,
        args: ['--reconnect-max-ms', '300'],
      }),
    );
    await waitDevices(orch.url, ['snap'], 'online');

    const g1 = layeredGraph('snapshot-first', ex, {
      layers: opts.quick ? 6 : 10,
      width: 3,
      sleep: 0,
    });
    const first = await waitFinished(() => orch.url, (await submit(orch.url, g1)).id, 60_000);
    // The engine writes at most one snapshot per 5 s (minSnapshotIntervalMs,
    // no CLI flag), so the second graph runs long enough for a second one.
    const g2 = layeredGraph('snapshot-second', ex, {
      layers: 12,
      width: 3,
      sleep: 0.5,
      prefix: 's',
    });
    const second = await submit(orch.url, g2);
    await waitFor(() => ex.lines().filter((l) => l.startsWith('s')).length >= 3, 'the second graph under way', 30_000);
    const seqs = await waitFor(
      () => {
        const s = snapshotSeqs(orch.dataDir);
        return s.length >= 2 ? s : undefined;
      },
      'two snapshots',
      40_000,
    );
    await orch.kill('SIGKILL');
    const newest = seqs.at(-1) as number;
    const older = seqs.at(-2) as number;
    damageSnapshot(orch.dataDir, newest);

    const t0 = Date.now();
    orch = procs.add(
      await startOrchestrator({
        dataDir: orch.dataDir,
        port,
        heartbeatMs: 500,
        args,
      }),
    );
    const restartMs = Date.now() - t0;
    // The log reaches us through a pipe, possibly after server.json appeared.
    const restarted = orch;
    const from = await waitFor(() => recoveredFrom(restarted.output()), 'the recovery log line', 10_000).catch(
      () => undefined,
    );
    const warned = orch.output().includes('snapshot checksum mismatch');
    const firstAgain = await getConstellation(orch.url, first.id);
    const secondDone = await waitFinished(() => orch.url, second.id, 60_000);
    const intact = view(firstAgain) === view(first);
    // Which snapshots are kept after the fallback, and do they verify?
    await sleep(500);
    const kept = snapshotHealth(orch.dataDir);
    const snapshotWarnings = orch
      .output()
      .split('\n')
      .filter((l) => l.includes('snapshot') && /"level":(40|50)/.test(l))
      .map((l) => {
        const j = JSON.parse(l) as { msg?: string; seq?: number };
        return `${j.msg ?? ''}${j.seq !== undefined ? ` (seq ${j.seq})` : ''}`;
      });

    // Variant: both retained snapshots damaged.
    await orch.kill('SIGKILL');
    const seqs2 = snapshotSeqs(orch.dataDir);
    for (const s of seqs2) damageSnapshot(orch.dataDir, s);
    let refused = '';
    try {
      const o = procs.add(
        await startOrchestrator({
          dataDir: orch.dataDir,
          port,
          heartbeatMs: 500,
          args,
        }),
      );
      refused = `started (snapshotSeq ${recoveredFrom(o.output())})`;
    } catch (err) {
      const m = /STORE_CORRUPT[^"\n]*/.exec(String(err));
      refused = m ? m[0].slice(0, 160) : `exited: ${String(err).slice(0, 200)}`;
    }

    const total = Object.keys(g1.tasks).length + Object.keys(g2.tasks).length;
    return [
      report({
        id: 'f1',
        title: 'newest snapshot damaged',
        injected: `SIGKILL mid-run, then the newest of snapshots [${seqs.join(', ')}] (--snapshot-every ${snapshotEvery}) damaged in place`,
        finalStates: {
          succeeded: (countStates(firstAgain).succeeded ?? 0) + (countStates(secondDone).succeeded ?? 0),
        },
        expectedStates: { succeeded: total },
        ex,
        allowed: allowedExecutions(g1) + allowedExecutions(g2),
        recovery: {
          ms: restartMs,
          what: 'restart → serving (snapshot fallback + replay)',
        },
        notes: [
          `snapshots kept after the restart: ${kept.map((k) => `${k.seq}${k.valid ? '' : ' (damaged)'}`).join(', ')}; warnings: ${JSON.stringify(snapshotWarnings)}`,
          `recovered from snapshot seq ${from} (newest ${newest} damaged, older ${older}); checksum warning logged: ${warned}`,
          `finished graph unchanged after restart: ${intact}; graph running at the kill: ${secondDone.status}`,
        ],
        extraOk: from === older && warned && intact && secondDone.status === 'succeeded',
        facts: {
          from,
          newest,
          older,
          warned,
          intact,
          secondStatus: secondDone.status,
        },
      }),
      report({
        id: 'f2',
        title: 'both snapshots damaged (after compaction)',
        injected: `both retained snapshots [${seqs2.join(', ')}] damaged`,
        finalStates: {},
        expectedStates: {},
        ex: new Executions(join(workDir('snapshot-none'), 'none')),
        allowed: 0,
        notes: [`restart: ${refused}`],
        extraOk: refused.startsWith('STORE_CORRUPT'),
        facts: { refused },
      }),
    ];
  } finally {
    await procs.killAll();
  }
}
