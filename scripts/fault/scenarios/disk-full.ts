// (e) The disk under the journal fills up. The orchestrator's data dir lives
// on a small tmpfs; a filler file takes the rest. Expected: /healthz says
// degraded, submissions answer 503 STORE_UNAVAILABLE, nothing stored before
// is damaged, running tasks' results are held (not lost), and once space is
// freed the orchestrator recovers by itself.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, startAgent, startOrchestrator, waitFor } from '../../testing/stack.js';
import {
  countStates,
  type ConstellationView,
  Executions,
  getConstellation,
  health,
  layeredGraph,
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

const TITLE = 'disk full under the journal';

async function tryApi(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ ok: true; status: number; value: { durability?: string } } | { ok: false; status: number; code: string }> {
  try {
    const res = await fetch(new URL(path, url), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = (await res.json().catch(() => ({}))) as { code?: string; durability?: string };
    return res.ok
      ? { ok: true, status: res.status, value: parsed }
      : { ok: false, status: res.status, code: parsed.code ?? `HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: 0, code: String(err) };
  }
}

export async function diskFullScenario(opts: ScenarioOptions = {}): Promise<ScenarioReport> {
  const support = tmpfsSupport();
  const injected = 'data dir on a 16 MiB tmpfs, filled to ENOSPC while a graph runs, then freed';
  if (!support.ok) return skippedReport('e', TITLE, injected, support.why ?? 'no tmpfs');
  const log = opts.log ?? (() => undefined);
  const procs = new Processes();
  const fs = mountTmpfs(16);
  procs.onCleanup(() => fs.unmount());
  const ex = new Executions(join(workDir('disk-full'), 'executions'));
  const dataDir = join(fs.dir, 'data');
  try {
    let orch = procs.add(await startOrchestrator({ dataDir, heartbeatMs: 500 }));
    procs.add(startAgent({ server: orch.aipUrl, name: 'df', slots: 4 }));
    await waitDevices(orch.url, ['df'], 'online');

    // Stored before the disk fills.
    const before = await submit(orch.url, layeredGraph('before-full', ex, { layers: 2, width: 3, sleep: 0 }));
    const beforeDone = await waitFinished(() => orch.url, before.id, 30_000);
    // Running while the disk fills: its results must be held, then applied once.
    const during = await submit(orch.url, {
      name: 'during-full',
      tasks: Object.fromEntries(['d0', 'd1', 'd2'].map((id) => [id, { run: ex.command(id, 1) }])),
    });
    await waitFor(
      async () =>
        Object.values((await getConstellation(orch.url, during.id)).tasks).every((t) => t.status === 'running'),
      'tasks running',
      20_000,
    );

    const filled = fs.fill();
    log(`  filled the tmpfs with ${(filled / 1048576).toFixed(1)} MiB`);
    // A big submission needs new pages: it hits the full disk.
    const bigTasks: Record<string, unknown> = {};
    for (let i = 0; i < 400; i++)
      bigTasks[`big${i}`] = {
        run: 'true',
        description: 'x'.repeat(2000),
        target: { labels: ['nobody'] },
      };
    const first = await tryApi(orch.url, 'POST', '/v1/constellations', {
      name: 'while-full',
      tasks: bigTasks,
    });
    const degraded = await waitFor(
      async () => {
        const h = await health(orch.url);
        return h?.status === 'degraded' ? h : undefined;
      },
      '/healthz degraded',
      20_000,
    ).catch(() => undefined);
    const second = await tryApi(orch.url, 'POST', '/v1/constellations', {
      name: 'refused',
      tasks: { r: { run: ex.command('refused', 0) } },
    });
    const readable = await tryApi(orch.url, 'GET', `/v1/constellations/${before.id}`);
    // The running tasks end meanwhile; their results reach the engine but cannot be journaled.
    await waitFor(() => ['d0', 'd1', 'd2'].every((id) => ex.perTask().has(id)), 'the running tasks to end', 20_000);
    await sleep(300);
    const heldStates = countStates(await getConstellation(orch.url, during.id));

    fs.free();
    const freedAt = Date.now();
    await waitFor(async () => (await health(orch.url))?.status === 'ok', '/healthz ok after freeing space', 20_000);
    const recoveryMs = Date.now() - freedAt;
    const duringDone = await waitFinished(() => orch.url, during.id, 30_000);
    const list = (await api<{ items: Array<{ id: string; name: string }> }>(orch.url, 'GET', '/v1/constellations'))
      .items;
    const lateSubmitted = list.find((c) => c.name === 'while-full');
    if (lateSubmitted) await tryApi(orch.url, 'POST', `/v1/constellations/${lateSubmitted.id}/cancel`);
    const after = await submit(orch.url, {
      name: 'after-full',
      tasks: { z: { run: ex.command('z', 0) } },
    });
    const afterDone = await waitFinished(() => orch.url, after.id, 30_000);

    // Nothing stored is damaged: integrity check, then a restart sees the same state.
    await orch.kill('SIGTERM');
    const db = new Database(join(dataDir, 'orrery.db'), { readonly: true });
    const integrity = db.pragma('integrity_check', { simple: true });
    db.close();
    orch = procs.add(await startOrchestrator({ dataDir, heartbeatMs: 500 }));
    const reread = await getConstellation(orch.url, before.id);
    const rereadDuring = await getConstellation(orch.url, during.id);
    const sameBefore = JSON.stringify(tasksOf(reread)) === JSON.stringify(tasksOf(beforeDone));

    const facts = {
      firstSubmit: first.ok
        ? `${first.status}${first.value.durability ? ` durability=${first.value.durability}` : ''}`
        : `${first.status} ${first.code}`,
      degraded: degraded?.detail,
      secondSubmit: second.ok ? `${second.status}` : `${second.status} ${second.code}`,
      readableWhileFull: readable.ok,
      heldStates,
      lateSubmitted: Boolean(lateSubmitted),
      integrity,
      sameBefore,
      duringAfterRestart: rereadDuring.status,
    };
    const total = 6 + 3 + 1;
    return report({
      id: 'e',
      title: TITLE,
      injected,
      finalStates: addCounts(addCounts(countStates(beforeDone), countStates(duringDone)), countStates(afterDone)),
      expectedStates: { succeeded: total },
      ex,
      allowed: total,
      recovery: {
        ms: recoveryMs,
        what: 'space freed → /healthz ok (the engine retries the held batch every second)',
      },
      notes: [
        `while full: first submit → ${facts.firstSubmit}; /healthz → degraded (${facts.degraded ?? 'not seen'}); next submit → ${facts.secondSubmit}; reads still served: ${facts.readableWhileFull}`,
        `running tasks held while full: ${JSON.stringify(heldStates)}, applied once after recovery`,
        lateSubmitted
          ? `the submission that met the full disk (answered ${facts.firstSubmit}) was stored once space returned`
          : `the submission that met the full disk (answered ${facts.firstSubmit}) was not stored`,
        `after restart: integrity_check ${integrity}, earlier constellation unchanged: ${sameBefore}, held one ${rereadDuring.status}`,
      ],
      extraOk:
        Boolean(degraded) &&
        !second.ok &&
        second.code === 'STORE_UNAVAILABLE' &&
        readable.ok &&
        integrity === 'ok' &&
        sameBefore &&
        rereadDuring.status === 'succeeded',
      facts,
    });
  } finally {
    await procs.killAll();
  }
}

function tasksOf(c: ConstellationView): unknown {
  return Object.fromEntries(
    Object.entries(c.tasks).map(([id, t]) => [
      id,
      {
        status: t.status,
        attempts: t.attempts.map((a) => [a.number, a.deviceId, a.outcome]),
      },
    ]),
  );
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}
