#!/usr/bin/env node
// A big graph: a seeded, layered random DAG of 100,000 tasks (each task needs
// 1-3 tasks of the layer above). Measures
//   - in process: graph validation + normalisation (normaliseGraph), building
//     the constellation (createConstellation), one edit (applyEdit adding one
//     task with one dependency) with the model's visit counter;
//   - against a live orchestrator (child process, durable journal, no agents
//     so nothing runs): POST /v1/constellations wall time, the orchestrator's
//     RSS before and after, and one edit over HTTP.
//
//   node scripts/bench/big-dag.mjs [--quick] [--tasks 100000] [--width 1000] [--seed 7] [--json]
import { performance } from 'node:perf_hooks';
import { api, cliArgs, fmt, int, machine, printTable, procStats, requireBuilt, sleep, startOrchestrator } from './sim-agent.mjs';

const args = cliArgs();
const TASKS = args.num('tasks', args.quick ? 20_000 : 100_000);
const WIDTH = args.num('width', 1000);
const SEED = args.num('seed', 7);

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Layers of WIDTH tasks; every task below the first layer needs 1-3 distinct tasks of the layer above. */
function layeredDag(n, width, seed) {
  const rnd = mulberry32(seed);
  const tasks = {};
  let edges = 0;
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const t = { run: 'true' };
    if (layer > 0) {
      const above = (layer - 1) * width;
      const k = 1 + Math.floor(rnd() * 3);
      const needs = new Set();
      for (let j = 0; j < k; j++) needs.add(`t${above + Math.floor(rnd() * width)}`);
      t.needs = [...needs];
      edges += needs.size;
    }
    tasks[`t${i}`] = t;
  }
  return { doc: { name: `big-${n}`, tasks }, edges, layers: Math.ceil(n / width) };
}

requireBuilt();
const { normaliseGraph } = await import('../../orchestrator/dist/graph/index.js');
const { createConstellation, applyEdit } = await import('../../orchestrator/dist/model/index.js');

const { doc, edges, layers } = layeredDag(TASKS, WIDTH, SEED);
const body = JSON.stringify(doc);

// ---- in process ----------------------------------------------------------------------
global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
let t0 = performance.now();
const spec = normaliseGraph(JSON.parse(body));
const normaliseMs = performance.now() - t0;
t0 = performance.now();
const c = createConstellation(spec, { id: 'big', owner: 'bench', now: Date.now() });
const createMs = performance.now() - t0;
global.gc?.();
const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;

const extraSpec = normaliseGraph({ name: 'one', tasks: { extra: { run: 'true' } } }).tasks[0];
const lastLayerTask = `t${TASKS - 1}`;
const addTask = (id, from) => ({ op: 'add_task', task: { ...extraSpec, id, name: id }, needs: [{ from }] });
// Warm the edit path up on a small constellation first: the first call pays for JIT compilation.
{
  const small = createConstellation(normaliseGraph({ name: 'w', tasks: { a: { run: 'true' }, b: { needs: ['a'], run: 'true' } } }), { id: 'w', owner: 'bench', now: Date.now() });
  for (let i = 0; i < 50; i++) applyEdit(small, { revision: small.revision, operations: [addTask(`w${i}`, 'b')] }, Date.now());
}
// Median of 5 edits, each adding one task that needs a last-layer task.
const editRuns = [];
const counter = { visited: 0 };
for (let i = 0; i < 5; i++) {
  const k = { visited: 0 };
  const t = performance.now();
  const edit = applyEdit(c, { revision: c.revision, operations: [addTask(`extra${i}`, lastLayerTask)] }, Date.now(), { counter: k });
  editRuns.push(performance.now() - t);
  if (!edit.ok) throw new Error(`edit failed: ${JSON.stringify(edit.error)}`);
  counter.visited = k.visited;
}
const editMs = editRuns.sort((a, b) => a - b)[2];
// An edit near the top: a new task that a first-layer task now also needs (touches its whole cone below).
const counter2 = { visited: 0 };
t0 = performance.now();
const edit2 = applyEdit(
  c,
  {
    revision: c.revision,
    operations: [
      { op: 'add_task', task: { ...extraSpec, id: 'top', name: 'top' } },
      { op: 'add_dependency', dependency: { from: 'top', to: 't0', kind: 'success' } },
    ],
  },
  Date.now(),
  { counter: counter2 },
);
const edit2Ms = performance.now() - t0;
if (!edit2.ok) throw new Error(`edit 2 failed: ${JSON.stringify(edit2.error)}`);

// ---- against a live orchestrator ----------------------------------------------------------
const orch = await startOrchestrator();
let http;
try {
  await sleep(500);
  const rss0 = procStats(orch.pid).rssMb;
  const post = await api(orch.url, 'POST', '/v1/constellations', body);
  const rss1 = procStats(orch.pid).rssMb;
  const id = post.body.id;
  const get = await api(orch.url, 'GET', `/v1/constellations/${id}`);
  const list = await api(orch.url, 'GET', '/v1/constellations');
  const editHttp = await api(orch.url, 'POST', `/v1/constellations/${id}/edits`, {
    revision: post.body.revision,
    operations: [addTask('extra', lastLayerTask)],
  });
  const rss2 = procStats(orch.pid).rssMb;
  await sleep(2000); // let the heap settle (no GC forcing in the server)
  const rss3 = procStats(orch.pid).rssMb;
  http = { postMs: post.ms, postBytes: post.bytes, getMs: get.ms, listMs: list.ms, editMs: editHttp.ms, editBytes: editHttp.bytes, rss0, rss1, rss2, rss3 };
} finally {
  await orch.stop();
}

printTable(`Big DAG: ${int(TASKS)} tasks, ${int(edges)} edges, ${layers} layers of ${WIDTH} (seed ${SEED}; ${await machine()})`, [
  ['graph JSON', `${fmt(body.length / 2 ** 20, 1)} MiB`],
  ['in process: validate + normalise (normaliseGraph)', `${fmt(normaliseMs, 0)} ms`, `${fmt((normaliseMs * 1000) / TASKS, 1)} us/task`],
  ['in process: createConstellation', `${fmt(createMs, 0)} ms`],
  ['in process: heap for spec + constellation', `${fmt(heapMb, 0)} MiB`, global.gc ? '' : 'approx. (run node --expose-gc for exact)'],
  ['in process: edit, add 1 task needing a last-layer task', `${fmt(editMs, 3)} ms`, `median of 5 after warm-up; ${int(counter.visited)} nodes visited`],
  ['in process: edit, new task that t0 (first layer) needs', `${fmt(edit2Ms, 3)} ms`, `${int(counter2.visited)} nodes visited`],
  ['HTTP: POST /v1/constellations (validate, journal, answer)', `${fmt(http.postMs, 0)} ms`, `answer ${fmt(http.postBytes / 2 ** 20, 1)} MiB`],
  ['HTTP: GET /v1/constellations/:id', `${fmt(http.getMs, 0)} ms`],
  ['HTTP: GET /v1/constellations (summaries)', `${fmt(http.listMs, 1)} ms`],
  ['HTTP: POST edits, add 1 task + 1 dependency', `${fmt(http.editMs, 0)} ms`, `answer is the whole constellation: ${fmt(http.editBytes / 2 ** 20, 1)} MiB`],
  ['orchestrator RSS: idle before', `${fmt(http.rss0, 0)} MiB`],
  ['orchestrator RSS: after POST', `${fmt(http.rss1, 0)} MiB`],
  ['orchestrator RSS: after GET + edit', `${fmt(http.rss2, 0)} MiB`],
  ['orchestrator RSS: 2 s later', `${fmt(http.rss3, 0)} MiB`],
]);

if (args.has('json')) {
  console.log(JSON.stringify({ bench: 'big-dag', tasks: TASKS, edges, normaliseMs, createMs, heapMb, editMs, editVisited: counter.visited, edit2Ms, edit2Visited: counter2.visited, http }));
}
process.exit(0);
