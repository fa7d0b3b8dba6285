#!/usr/bin/env node
// Makespan benchmark for the scheduler: a discrete-event simulation of DAG
// execution on simulated heterogeneous devices. Compares Orrery's scheduler
// (known costs; runtimes learned per executor kind, with and without rank;
// runtimes learned per task from an earlier run of the same graph) with FIFO on the
// first free device and round-robin, against the lower bound
// max(critical path on the fastest device, total work / total capacity).
//
//   node scripts/bench/makespan.mjs [--seed 7] [--seeds 10] [--weights '{"waitMargin":0.2}'] [--json]
//
// --seeds N repeats every shape with seeds seed..seed+N-1 and reports the
// geometric mean of the ratios (robust to one lucky or unlucky draw).
//
// Uses orchestrator/dist/scheduler when built (npx tsc -b orchestrator), else
// compiles the scheduler alone with scripts/bench/tsconfig.scheduler.json.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = process.argv.slice(2);
const seedArg = Number(args[args.indexOf('--seed') + 1]);
const SEED = args.includes('--seed') && Number.isFinite(seedArg) ? seedArg : 7;
const JSON_OUT = args.includes('--json');
const seedsArg = Number(args[args.indexOf('--seeds') + 1]);
const WEIGHTS = args.includes('--weights') ? JSON.parse(args[args.indexOf('--weights') + 1]) : {};
const SEEDS = args.includes('--seeds') && Number.isInteger(seedsArg) && seedsArg > 0 ? seedsArg : 1;

async function loadScheduler() {
  const dist = join(root, 'orchestrator/dist/scheduler/index.js');
  const local = join(here, '.build/scheduler/index.js');
  // Whichever build is newer: dist may be stale while the package does not compile as a whole.
  if (existsSync(dist) && (!existsSync(local) || statSync(dist).mtimeMs >= statSync(local).mtimeMs)) {
    return import(pathToFileURL(dist).href);
  }
  if (!existsSync(local)) {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(here, 'tsconfig.scheduler.json')], { stdio: 'inherit' });
  }
  return import(pathToFileURL(local).href);
}
const { Scheduler } = await loadScheduler();

// ---- seeded randomness ------------------------------------------------------
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
const uniform = (rnd, lo, hi) => lo + (hi - lo) * rnd();

// ---- DAG shapes (tasks: {id, kind, cost (ms on a speed-1 device), deps}) -----
function chain(rnd, n = 40) {
  return Array.from({ length: n }, (_, i) => ({ id: `c${i}`, kind: 'step', cost: uniform(rnd, 100, 1000), deps: i ? [`c${i - 1}`] : [] }));
}

function forkJoin(rnd, stages = 4, width = 24) {
  const tasks = [{ id: 'src', kind: 'split', cost: uniform(rnd, 50, 150), deps: [] }];
  let prev = 'src';
  for (let s = 0; s < stages; s++) {
    const ids = [];
    for (let w = 0; w < width; w++) {
      const id = `s${s}w${w}`;
      ids.push(id);
      tasks.push({ id, kind: 'map', cost: uniform(rnd, 200, 1200), deps: [prev] });
    }
    prev = `join${s}`;
    tasks.push({ id: prev, kind: 'reduce', cost: uniform(rnd, 100, 300), deps: ids });
  }
  return tasks;
}

function randomLayered(rnd, layers = 10, minW = 4, maxW = 20) {
  const tasks = [];
  let prev = [];
  for (let l = 0; l < layers; l++) {
    const width = Math.floor(uniform(rnd, minW, maxW + 1));
    const ids = [];
    for (let w = 0; w < width; w++) {
      const id = `l${l}n${w}`;
      const deps = prev.filter(() => rnd() < 0.3);
      if (prev.length > 0 && deps.length === 0) deps.push(prev[Math.floor(rnd() * prev.length)]);
      tasks.push({ id, kind: `k${Math.floor(rnd() * 3)}`, cost: uniform(rnd, 50, 1500), deps });
      ids.push(id);
    }
    prev = ids;
  }
  return tasks;
}

// Montage mosaic pattern: per-image projection, pairwise difference fits over
// overlapping neighbours, one global background model, per-image correction,
// then a serial tail that assembles, shrinks and renders the mosaic.
function montage(rnd, images = 24) {
  const tasks = [];
  const t = (id, kind, lo, hi, deps) => tasks.push({ id, kind, cost: uniform(rnd, lo, hi), deps });
  for (let i = 0; i < images; i++) t(`mProject${i}`, 'mProject', 1500, 2500, []);
  const fits = [];
  for (let i = 0; i < images; i++) {
    for (const j of [i + 1, i + 6]) {
      if (j < images) {
        fits.push(`mDiffFit${i}_${j}`);
        t(`mDiffFit${i}_${j}`, 'mDiffFit', 200, 400, [`mProject${i}`, `mProject${j}`]);
      }
    }
  }
  t('mConcatFit', 'mConcatFit', 300, 500, fits);
  t('mBgModel', 'mBgModel', 800, 1200, ['mConcatFit']);
  const bgs = [];
  for (let i = 0; i < images; i++) {
    bgs.push(`mBackground${i}`);
    t(`mBackground${i}`, 'mBackground', 300, 600, ['mBgModel', `mProject${i}`]);
  }
  t('mImgtbl', 'mImgtbl', 200, 400, bgs);
  t('mAdd', 'mAdd', 2000, 3000, ['mImgtbl']);
  t('mShrink', 'mShrink', 400, 800, ['mAdd']);
  t('mJPEG', 'mJPEG', 200, 400, ['mShrink']);
  return tasks;
}

// ---- simulated fleet -----------------------------------------------------------
const FLEET = [
  { id: 'd0', speed: 1, slots: 2 },
  { id: 'd1', speed: 1, slots: 1 },
  { id: 'd2', speed: 2, slots: 2 },
  { id: 'd3', speed: 4, slots: 1 },
];
const schedDevice = (d) => ({ id: d.id, name: d.id, labels: [], os: 'linux', arch: 'x64', features: [], slots: d.slots, cpus: 4, memoryMb: 8192, gpus: 0, status: 'online' });

/** Prepares a DAG: children lists, per-task noise on the actual runtime (same on every device). */
function prepare(tasks, rnd) {
  const byId = new Map(tasks.map((t) => [t.id, { ...t, children: [], noise: uniform(rnd, 0.9, 1.1) }]));
  for (const t of byId.values()) for (const d of t.deps) byId.get(d).children.push(t.id);
  return byId;
}

/**
 * Lower bounds on the makespan. path: the critical path with every task on the
 * fastest device. work: all work spread perfectly over the whole capacity.
 * segment: for each task t, (a) its ancestors' work at full capacity, then t's
 * bottom level on the fastest device, and (b) t's top level on the fastest
 * device, then the work of t and its descendants at full capacity. The segment
 * bound sees serial stretches (a join, Montage's mBgModel → mJPEG tail) that
 * the work bound spreads over idle devices.
 */
function lowerBound(dag) {
  const maxSpeed = Math.max(...FLEET.map((d) => d.speed));
  const capacity = FLEET.reduce((s, d) => s + d.slots * d.speed, 0);
  const order = topo(dag);
  const top = new Map(); // longest path ending at t, excluding t, on the fastest device
  const bottom = new Map(); // longest path starting at t, including t
  let work = 0;
  for (const t of order) {
    top.set(t.id, Math.max(0, ...t.deps.map((d) => top.get(d) + (dag.get(d).cost * dag.get(d).noise) / maxSpeed)));
    work += t.cost * t.noise;
  }
  for (const t of [...order].reverse()) bottom.set(t.id, (t.cost * t.noise) / maxSpeed + Math.max(0, ...t.children.map((c) => bottom.get(c))));
  let cp = 0;
  for (const t of order) cp = Math.max(cp, top.get(t.id) + bottom.get(t.id));
  const closureWork = (start, next) => {
    const seen = new Set([start.id]);
    const stack = [start];
    let sum = 0;
    while (stack.length) {
      const t = stack.pop();
      for (const n of next(t)) {
        if (!seen.has(n)) {
          seen.add(n);
          const nt = dag.get(n);
          sum += nt.cost * nt.noise;
          stack.push(nt);
        }
      }
    }
    return sum;
  };
  let segment = 0;
  for (const t of order) {
    const own = t.cost * t.noise;
    segment = Math.max(segment, closureWork(t, (x) => x.deps) / capacity + bottom.get(t.id));
    segment = Math.max(segment, top.get(t.id) + (own + closureWork(t, (x) => x.children)) / capacity);
  }
  const classic = Math.max(cp, work / capacity);
  return { cp, work: work / capacity, classic, segment, lb: Math.max(classic, segment) };
}

function topo(dag) {
  const indeg = new Map([...dag.values()].map((t) => [t.id, t.deps.length]));
  const out = [];
  const stack = [...dag.values()].filter((t) => t.deps.length === 0);
  while (stack.length) {
    const t = stack.pop();
    out.push(t);
    for (const c of t.children) {
      indeg.set(c, indeg.get(c) - 1);
      if (indeg.get(c) === 0) stack.push(dag.get(c));
    }
  }
  return out;
}

/** Upward rank: estimated length of the longest path from each task to the exit. */
function upwardRanks(dag, estimate) {
  const rank = new Map();
  for (const t of topo(dag).reverse()) rank.set(t.id, estimate(t) + Math.max(0, ...t.children.map((c) => rank.get(c))));
  return rank;
}

/**
 * Runs one DAG to completion. `policy` = { onReady(task, now), pick(now, free) → [{taskId, deviceId}], onFinish(taskId, deviceId, runtime), wakeAt() }.
 * Returns the makespan and the scheduler time spent.
 */
function simulate(dag, policy) {
  const devices = new Map(FLEET.map((d) => [d.id, { ...d, running: 0 }]));
  const waiting = new Map([...dag.values()].map((t) => [t.id, t.deps.length]));
  const events = []; // {at, taskId, deviceId, runtime}, kept sorted by `at` (small DAGs: insertion is fine)
  let now = 0;
  let done = 0;
  let pickNs = 0n;
  for (const t of dag.values()) if (t.deps.length === 0) policy.onReady(t, now);
  for (let guard = 0; done < dag.size; guard++) {
    if (guard > 10 * dag.size + 1000) throw new Error('simulation did not converge');
    const t0 = process.hrtime.bigint();
    const picks = policy.pick(now, devices);
    pickNs += process.hrtime.bigint() - t0;
    for (const { taskId, deviceId } of picks) {
      const d = devices.get(deviceId);
      if (d.running >= d.slots) throw new Error(`over-subscribed ${deviceId}`);
      d.running++;
      const t = dag.get(taskId);
      const runtime = (t.cost * t.noise) / d.speed;
      const ev = { at: now + runtime, taskId, deviceId, runtime };
      let i = events.length;
      while (i > 0 && events[i - 1].at > ev.at) i--;
      events.splice(i, 0, ev);
    }
    const wake = policy.wakeAt?.();
    const next = events[0]?.at ?? Number.POSITIVE_INFINITY;
    if (wake !== undefined && wake > now && wake < next) {
      now = wake;
      continue;
    }
    if (!events.length) throw new Error('deadlock: nothing running, tasks left');
    now = next;
    while (events.length && events[0].at === now) {
      const ev = events.shift();
      devices.get(ev.deviceId).running--;
      done++;
      policy.onFinish(ev.taskId, ev.deviceId, ev.runtime);
      for (const c of dag.get(ev.taskId).children) {
        waiting.set(c, waiting.get(c) - 1);
        if (waiting.get(c) === 0) policy.onReady(dag.get(c), now);
      }
    }
  }
  return { makespan: now, pickMs: Number(pickNs) / 1e6 };
}

// ---- policies ------------------------------------------------------------------
function orreryPolicy(scheduler, { kindOf, rank }) {
  return {
    onReady(t, now) {
      scheduler.enqueue({ key: `g/${t.id}`, constellationId: 'g', owner: 'bench', taskId: t.id, target: {}, priority: 0, kind: kindOf(t), readySince: now, rank: rank?.get(t.id) });
    },
    pick(now) {
      return scheduler.schedule(now).map((p) => ({ taskId: p.key.slice(2), deviceId: p.deviceId }));
    },
    onFinish(taskId, deviceId, runtime) {
      scheduler.release(`g/${taskId}`, deviceId, runtime);
    },
    wakeAt: () => scheduler.nextWakeAt(),
  };
}

function fifoPolicy() {
  const queue = [];
  return {
    onReady: (t) => queue.push(t.id),
    pick(_now, devices) {
      const out = [];
      for (const d of devices.values()) {
        for (let free = d.slots - d.running; free > 0 && queue.length; free--) out.push({ taskId: queue.shift(), deviceId: d.id });
      }
      return out;
    },
    onFinish() {},
  };
}

function roundRobinPolicy() {
  const queue = [];
  let next = 0;
  return {
    onReady: (t) => queue.push(t.id),
    pick(_now, devices) {
      const list = [...devices.values()];
      const used = new Map(list.map((d) => [d.id, d.running]));
      const out = [];
      while (queue.length) {
        let placed = false;
        for (let k = 0; k < list.length; k++) {
          const d = list[(next + k) % list.length];
          if (used.get(d.id) < d.slots) {
            used.set(d.id, used.get(d.id) + 1);
            out.push({ taskId: queue.shift(), deviceId: d.id });
            next = (next + k + 1) % list.length;
            placed = true;
            break;
          }
        }
        if (!placed) break;
      }
      return out;
    },
    onFinish() {},
  };
}

function newScheduler(seed) {
  const s = new Scheduler({ random: mulberry32(seed), now: () => 0, weights: WEIGHTS });
  for (const d of FLEET) s.upsertDevice(schedDevice(d));
  return s;
}

function runShape(name, make, seed = SEED) {
  const rnd = mulberry32(seed);
  const dag = prepare(make(rnd), rnd);
  const bound = lowerBound(dag);
  const meanSpeed = FLEET.reduce((s, d) => s + d.speed * d.slots, 0) / FLEET.reduce((s, d) => s + d.slots, 0);
  const results = {};

  // Known costs: each task is its own kind, seeded with its exact nominal runtime per device.
  {
    const s = newScheduler(seed);
    for (const t of dag.values()) for (const d of FLEET) s.observeRuntime(d.id, `task:${t.id}`, t.cost / d.speed);
    const rank = upwardRanks(dag, (t) => t.cost / meanSpeed);
    results['orrery (known costs)'] = simulate(dag, orreryPolicy(s, { kindOf: (t) => `task:${t.id}`, rank }));
  }
  // Learned: one warm-up run of a different DAG of the same shape, then the measured run; estimates per (device, kind).
  for (const withRank of [true, false]) {
    const s = newScheduler(seed);
    const warm = prepare(make(mulberry32(seed + 1000)), mulberry32(seed + 2000));
    simulate(warm, orreryPolicy(s, { kindOf: (t) => t.kind }));
    const estimate = (t) => FLEET.reduce((sum, d) => sum + s.estimateRuntime(d.id, t.kind), 0) / FLEET.length;
    const rank = withRank ? upwardRanks(dag, estimate) : undefined;
    results[withRank ? 'orrery (learned)' : 'orrery (learned, no rank)'] = simulate(dag, orreryPolicy(s, { kindOf: (t) => t.kind, rank }));
  }
  // Recurring graph (a nightly pipeline): the same DAG ran before, so each task has its own estimate class.
  {
    const s = newScheduler(seed);
    const warm = prepare(make(mulberry32(seed)), mulberry32(seed + 3000));
    const kindOf = (t) => `${t.kind}:${t.id}`;
    simulate(warm, orreryPolicy(s, { kindOf }));
    const estimate = (t) => FLEET.reduce((sum, d) => sum + s.estimateRuntime(d.id, kindOf(t)), 0) / FLEET.length;
    results['orrery (learned, recurring)'] = simulate(dag, orreryPolicy(s, { kindOf, rank: upwardRanks(dag, estimate) }));
  }
  results['FIFO first free'] = simulate(dag, fifoPolicy());
  results['round-robin'] = simulate(dag, roundRobinPolicy());
  return { name, tasks: dag.size, bound, results };
}

// Scheduler cost on the hot path: enqueue + schedule + release of no-op tasks.
function hotPath(tasks = 200_000, constellations = 10, devices = 100) {
  const s = new Scheduler({ random: mulberry32(SEED), now: () => 0 });
  for (let i = 0; i < devices; i++) s.upsertDevice({ ...schedDevice({ id: `h${i}`, slots: 4 }), labels: i % 2 ? ['gpu'] : [] });
  const targets = [{}, { labels: ['gpu'] }];
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  let placed = 0;
  let next = 0;
  while (placed < tasks) {
    for (let k = 0; k < 64 && next < tasks; k++, next++) {
      const c = `c${next % constellations}`;
      s.enqueue({ key: `${c}/${next}`, constellationId: c, owner: `o${next % 3}`, taskId: String(next), target: targets[next % 2], priority: 0, kind: 'noop', readySince: next });
    }
    for (const p of s.schedule(next)) {
      s.release(p.key, p.deviceId, 0.1);
      placed++;
    }
  }
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // CPU time is the steadier figure on a shared machine; wall time is reported beside it.
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  return { tasks, constellations, devices, seconds: sec, cpuSeconds: cpuSec, perSecond: tasks / sec, perCpuSecond: tasks / cpuSec, usPerTask: (cpuSec * 1e6) / tasks };
}

const shapes = [
  ['chain (40)', (r) => chain(r)],
  ['fork-join (4x24)', (r) => forkJoin(r)],
  ['random layered (10 layers)', (r) => randomLayered(r)],
  ['montage (24 images)', (r) => montage(r)],
  ['montage (96 images)', (r) => montage(r, 96)],
  ['random layered (60 layers)', (r) => randomLayered(r, 60, 10, 40)],
];
const rows = shapes.map(([name, make]) => {
  if (SEEDS === 1) return runShape(name, make);
  // Several seeds: the reported makespans are geometric means of the ratios times the mean bound.
  const runs = Array.from({ length: SEEDS }, (_, i) => runShape(name, make, SEED + i));
  const mean = (f) => runs.reduce((sum, r) => sum + f(r), 0) / runs.length;
  const meanLb = mean((r) => r.bound.lb);
  const results = {};
  for (const p of Object.keys(runs[0].results)) {
    const geo = Math.exp(runs.reduce((sum, r) => sum + Math.log(r.results[p].makespan / r.bound.lb), 0) / runs.length);
    const geoClassic = Math.exp(runs.reduce((sum, r) => sum + Math.log(r.results[p].makespan / r.bound.classic), 0) / runs.length);
    results[p] = { makespan: geo * meanLb, ratio: geo, ratioClassic: geoClassic, pickMs: runs.reduce((sum, r) => sum + r.results[p].pickMs, 0) };
  }
  const pathBound = runs.filter((r) => r.bound.cp >= r.bound.work).length > runs.length / 2;
  const classic = mean((r) => r.bound.classic);
  const bound = { lb: meanLb, classic, segment: mean((r) => r.bound.segment), cp: pathBound ? classic : 0, work: pathBound ? 0 : classic };
  return { name, tasks: runs[0].tasks, bound, results };
});
const hot = hotPath();

if (JSON_OUT) {
  console.log(JSON.stringify({ seed: SEED, fleet: FLEET, rows, hotPath: hot }, null, 2));
} else {
  const policies = Object.keys(rows[0].results);
  const seeds = SEEDS === 1 ? `seed ${SEED}` : `geometric mean over seeds ${SEED}..${SEED + SEEDS - 1}`;
  console.log(`Makespan (s) and ratio to the lower bound; ${seeds}; fleet ${FLEET.map((d) => `${d.id}: speed ${d.speed} × ${d.slots} slot${d.slots > 1 ? 's' : ''}`).join(', ')}\n`);
  const ratio = (r, p) => r.results[p].ratio ?? r.results[p].makespan / r.bound.lb;
  const ratioClassic = (r, p) => r.results[p].ratioClassic ?? r.results[p].makespan / r.bound.classic;
  const header = ['shape', 'tasks', 'bound: path/work', 'bound: segment', ...policies];
  const table = rows.map((r) => [
    r.name,
    String(r.tasks),
    `${(r.bound.classic / 1000).toFixed(2)} (${r.bound.cp >= r.bound.work ? 'path' : 'work'})`,
    (r.bound.segment / 1000).toFixed(2),
    ...policies.map((p) => `${(r.results[p].makespan / 1000).toFixed(2)} (${ratio(r, p).toFixed(3)}×)`),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log('Ratios are to the larger of the two bounds.\n');
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table) console.log(line(row));
  const geo = (f) => Math.exp(rows.reduce((s, r) => s + Math.log(f(r)), 0) / rows.length);
  console.log(`\nGeometric mean ratio to the larger bound: ${policies.map((p) => `${p} ${geo((r) => ratio(r, p)).toFixed(3)}×`).join(', ')}`);
  console.log(`Geometric mean ratio to the path/work bound alone: ${policies.map((p) => `${p} ${geo((r) => ratioClassic(r, p)).toFixed(3)}×`).join(', ')}`);
  const pick = rows.reduce((s, r) => s + r.results['orrery (learned)'].pickMs, 0);
  const n = rows.reduce((s, r) => s + r.tasks, 0) * SEEDS;
  console.log(`Scheduler time inside the simulations: ${pick.toFixed(1)} ms for ${n} tasks (${((pick * 1000) / n).toFixed(1)} µs/task)`);
  console.log(
    `Hot path (enqueue + schedule + release, ${hot.tasks} no-op tasks, ${hot.constellations} constellations, ${hot.devices} devices × 4 slots): ${Math.round(hot.perCpuSecond).toLocaleString('en-US')} tasks per CPU-second (${hot.usPerTask.toFixed(2)} µs CPU/task; wall ${Math.round(hot.perSecond).toLocaleString('en-US')} tasks/s)`,
  );
}
