#!/usr/bin/env node
// Journal benchmark: sustained group-commit throughput for batches of 1, 10,
// 100 and 1000 events (synchronous NORMAL and FULL), replay speed, and
// snapshot write/load time for a 10,000-task state.
//
//   node scripts/bench/journal-throughput.mjs [--seconds 2] [--sync normal|full|both] [--json]
//
// The store is loaded straight from orchestrator/src/store (transpiled on the
// fly), so the benchmark runs even while the rest of the orchestrator does not
// compile.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadStore } from './journal-store-loader.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    sync: { type: 'string', default: 'both' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const syncModes = args.sync === 'both' ? ['NORMAL', 'FULL'] : [args.sync.toUpperCase()];
const { openSqliteStore } = await loadStore();
const results = { machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version }, append: [], replay: null, snapshot: null };

function taskEvent(n) {
  // Shaped like an engine event: a task finished on a device with outputs.
  return {
    type: 'task.succeeded',
    constellationId: `c${n % 8}`,
    at: Date.now(),
    data: { taskId: `task-${n}`, attempt: 1, deviceId: 'dev-01', exitCode: 0, durationMs: 12, outputs: { result: `r${n}` } },
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function withStore(sync, fn) {
  const dataDir = mkdtempSync(join(tmpdir(), 'orrery-bench-journal-'));
  const store = openSqliteStore({ dataDir, synchronous: sync });
  try {
    return fn(store, dataDir);
  } finally {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

for (const sync of syncModes) {
  for (const batchSize of [1, 10, 100, 1000]) {
    withStore(sync, (store) => {
      let n = 0;
      const batches = [];
      // Prebuild a ring of batches so the loop measures the store, not object creation.
      for (let b = 0; b < 64; b++) batches.push(Array.from({ length: batchSize }, () => taskEvent(n++)));
      for (let w = 0; w < 20; w++) store.appendEvents(batches[w % 64]); // warm-up
      const latencies = [];
      let events = 0;
      const start = performance.now();
      const deadline = start + seconds * 1000;
      let now = start;
      for (let i = 0; now < deadline; i++) {
        const t0 = performance.now();
        store.appendEvents(batches[i % 64]);
        now = performance.now();
        latencies.push(now - t0);
        events += batchSize;
      }
      const elapsed = (now - start) / 1000;
      latencies.sort((a, b) => a - b);
      results.append.push({
        sync,
        batchSize,
        eventsPerSec: Math.round(events / elapsed),
        commitsPerSec: Math.round(latencies.length / elapsed),
        commitP50Ms: +percentile(latencies, 50).toFixed(3),
        commitP99Ms: +percentile(latencies, 99).toFixed(3),
      });
    });
  }
}

// Replay: read back 200,000 events the way a restarting orchestrator does.
withStore('NORMAL', (store) => {
  const total = 200_000;
  for (let i = 0; i < total; i += 1000) store.appendEvents(Array.from({ length: 1000 }, (_, j) => taskEvent(i + j)));
  const start = performance.now();
  let count = 0;
  for (const _event of store.iterateEvents(0, 5000)) count++;
  const elapsed = (performance.now() - start) / 1000;
  results.replay = { events: count, eventsPerSec: Math.round(count / elapsed), seconds: +elapsed.toFixed(3) };
});

// Snapshot of a 10,000-task constellation (spec + one attempt each).
function bigState(tasks) {
  const list = [];
  for (let i = 0; i < tasks; i++) {
    list.push({
      spec: {
        id: `task-${i}`,
        name: `Task ${i}`,
        target: { labels: ['linux'], capabilities: i % 10 === 0 ? ['gpu'] : [] },
        executor: { kind: 'shell', command: `echo step ${i} && sleep 0` },
        inputs: { upstream: `\${{ tasks.task-${Math.max(0, i - 1)}.outputs.result }}` },
        outputs: { result: { from: 'stdout' } },
        priority: i % 5,
        retry: { max: 2, initialBackoffMs: 1000, maxBackoffMs: 30000, multiplier: 2 },
      },
      status: 'succeeded',
      unmetDependencies: 0,
      attempts: [{ attempt: 1, deviceId: 'dev-01', startedAt: 1_700_000_000_000 + i, endedAt: 1_700_000_000_500 + i, exitCode: 0 }],
      outputs: { result: `value-${i}` },
    });
  }
  const dependencies = list.slice(1).map((_, i) => ({ from: `task-${i}`, to: `task-${i + 1}`, kind: 'success' }));
  return { constellations: [{ id: 'c-big', name: 'big', revision: 1, status: 'running', tasks: list, dependencies }] };
}

withStore('NORMAL', (store, dataDir) => {
  const state = bigState(10_000);
  store.appendEvents([{ type: 'constellation.submitted', constellationId: 'c-big', at: Date.now(), data: {} }]);
  const writes = [];
  const loads = [];
  for (let r = 0; r < 5; r++) {
    let t0 = performance.now();
    store.writeSnapshot(1, state);
    writes.push(performance.now() - t0);
    t0 = performance.now();
    const loaded = store.loadLatestSnapshot();
    loads.push(performance.now() - t0);
    if (loaded?.data?.constellations?.[0]?.tasks?.length !== 10_000) throw new Error('snapshot round trip failed');
  }
  writes.sort((a, b) => a - b);
  loads.sort((a, b) => a - b);
  const bytes = Buffer.byteLength(JSON.stringify(state));
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  results.snapshot = {
    tasks: 10_000,
    jsonBytes: bytes,
    writeMedianMs: +writes[2].toFixed(1),
    loadMedianMs: +loads[2].toFixed(1),
    dbFileBytes: statSync(join(dataDir, 'orrery.db')).size,
  };
});

if (args.json) {
  console.log(JSON.stringify(results));
} else {
  const m = results.machine;
  console.log(`journal benchmark — ${m.cpus} × ${m.cpu}, node ${m.node}, ${seconds}s per case`);
  console.log('\nappend (one transaction per batch)');
  console.log('sync    batch   events/s   commits/s  commit p50 ms  commit p99 ms');
  for (const r of results.append) {
    console.log(
      `${r.sync.padEnd(7)} ${String(r.batchSize).padStart(5)} ${String(r.eventsPerSec).padStart(10)} ${String(r.commitsPerSec).padStart(11)} ${r.commitP50Ms.toFixed(3).padStart(14)} ${r.commitP99Ms.toFixed(3).padStart(14)}`,
    );
  }
  const rp = results.replay;
  console.log(`\nreplay: ${rp.events} events in ${rp.seconds}s = ${rp.eventsPerSec} events/s`);
  const s = results.snapshot;
  console.log(
    `snapshot of ${s.tasks} tasks (${(s.jsonBytes / 1e6).toFixed(1)} MB JSON): write ${s.writeMedianMs} ms, load ${s.loadMedianMs} ms (median of 5)`,
  );
}
