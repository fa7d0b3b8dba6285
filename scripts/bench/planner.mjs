#!/usr/bin/env node
// The planner's own costs, in process (no network but a loopback
// chat-completions stand-in that answers at once):
//   - built-in planning of the example sentences (examples/*.sentence) and of
//     one long sentence (stages of parallel clauses);
//   - LLM planner overhead per plan (prompt building, HTTP, validation of a
//     graph of --llm-tasks tasks), the model's own time excluded;
//   - a built-in replan on a constellation of --tasks tasks with one failed
//     task: the rules plus the dry run of the batch on a copy (the copy is
//     O(graph): that is the figure to watch for very large constellations).
//
//   node scripts/bench/planner.mjs [--quick] [--tasks 100000] [--clauses 500] [--json]
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliArgs, fmt, int, machine, printTable, requireBuilt, ROOT } from './sim-agent.mjs';

requireBuilt();
const args = cliArgs();
const TASKS = args.num('tasks', args.quick ? 20_000 : 100_000);
const CLAUSES = args.num('clauses', args.quick ? 200 : 500);
const LLM_TASKS = args.num('llm-tasks', 50);

const { planFromSentence, builtinReplan, checkEditBatch, editableCopy, LlmPlanner } = await import(join(ROOT, 'orchestrator/dist/planner/index.js'));
const { normaliseGraph } = await import(join(ROOT, 'orchestrator/dist/graph/index.js'));
const { createConstellation, indexOf } = await import(join(ROOT, 'orchestrator/dist/model/index.js'));

const examples = join(ROOT, 'examples');
const fleet = JSON.parse(readFileSync(join(examples, 'fleet.json'), 'utf8')).devices.map((d) => ({
  id: `id-${d.name}`, status: 'online', features: [], executors: ['shell'], cpus: 4, memoryMb: 8192, gpus: 0, slots: 2, ...d,
}));
const sentences = readdirSync(examples).filter((f) => f.endsWith('.sentence')).map((f) => readFileSync(join(examples, f), 'utf8').trim());

function timeIt(fn, minMs = 300) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    n++;
  }
  return (performance.now() - start) / n;
}

const rows = [];
const result = {};

// Built-in planning (warmed up: the first call compiles the graph JSON Schema).
for (const s of sentences) planFromSentence(s, fleet);
const perExample = timeIt(() => {
  for (const s of sentences) planFromSentence(s, fleet);
}) / sentences.length;
rows.push(['built-in plan, example sentence (avg)', `${fmt(perExample * 1000, 0)} µs`, `${sentences.length} sentences, incl. normaliser check`]);
result.builtinExampleUs = perExample * 1000;

const stages = [];
for (let i = 0; i < CLAUSES; i += 10) {
  const clauses = [];
  for (let j = i; j < Math.min(i + 10, CLAUSES); j++) clauses.push(`on ${fleet[j % fleet.length].labels[0]} as t${j}: ./step.sh ${j}`);
  stages.push(clauses.join(' and '));
}
const long = stages.join('; then ');
const longMs = timeIt(() => planFromSentence(long, fleet), 500);
rows.push([`built-in plan, ${CLAUSES} clauses (${int(long.length)} chars)`, `${fmt(longMs)} ms`]);
result.builtinLongMs = longMs;

// LLM planner overhead against a loopback server that answers at once.
const tasks = {};
for (let i = 0; i < LLM_TASKS; i++) tasks[`t${i}`] = { run: `echo ${i}`, target: { labels: ['edge'] }, ...(i > 0 ? { needs: [`t${i - 1}`] } : {}) };
const answer = JSON.stringify({ choices: [{ message: { role: 'assistant', content: JSON.stringify({ name: 'bench', tasks }) } }] });
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const llm = new LlmPlanner({ baseUrl: `http://127.0.0.1:${server.address().port}/v1`, model: 'bench' });
await llm.plan('warm up', fleet);
const rounds = args.quick ? 50 : 200;
let t0 = performance.now();
for (let i = 0; i < rounds; i++) await llm.plan('plan it', fleet);
const llmMs = (performance.now() - t0) / rounds;
server.close();
rows.push([`LLM planner overhead per plan (${LLM_TASKS}-task answer)`, `${fmt(llmMs)} ms`, 'loopback HTTP + validation; the model excluded']);
result.llmOverheadMs = llmMs;

// Built-in replan on a big constellation.
const big = { name: 'big', tasks: {} };
for (let i = 0; i < TASKS; i++) big.tasks[`t${i}`] = { run: 'true', target: { labels: ['cpu'] }, ...(i >= 1000 ? { needs: [`t${i - 1000}`] } : {}) };
t0 = performance.now();
const c = createConstellation(normaliseGraph(big), { id: 'b', owner: 'bench', now: 1 });
const buildMs = performance.now() - t0;
const failed = c.tasks.t0;
failed.status = 'failed';
failed.attempts = [{ number: 1, deviceId: 'id-build-server', assignedAt: 1, endedAt: 2, outcome: 'failed', exitCode: 1 }];
const devices = [{ ...fleet[0], id: 'id-build-server' }, { ...fleet[0], id: 'id-other', name: 'other', labels: ['cpu'] }];
t0 = performance.now();
const r = builtinReplan({ constellationId: 'b', revision: c.revision, state: c, devices, failure: { taskId: 't0', status: 'failed', logTail: '' } });
const rulesMs = performance.now() - t0;
t0 = performance.now();
const problems = checkEditBatch(c, r.operations, devices);
const checkMs = performance.now() - t0;
t0 = performance.now();
structuredClone(c);
const cloneMs = performance.now() - t0;
// What the orchestrator does with the live state (a copy of the containers, index rebuilt).
t0 = performance.now();
indexOf(editableCopy(c));
const copyMs = performance.now() - t0;
if (problems.length > 0 || r.operations.length === 0) throw new Error(`replan bench: unexpected ${JSON.stringify({ problems, r })}`);
rows.push([`built-in replan rules, ${int(TASKS)} tasks`, `${fmt(rulesMs)} ms`]);
rows.push([`dry run of the batch on a copy, ${int(TASKS)} tasks`, `${fmt(checkMs)} ms`, `of which copying the containers + index ~${fmt(copyMs)} ms`]);
rows.push([`(a deep structuredClone instead, ${int(TASKS)} tasks)`, `${fmt(cloneMs)} ms`, 'what the copy avoids']);
rows.push(['(building that constellation, for scale)', `${fmt(buildMs)} ms`]);
Object.assign(result, { replanRulesMs: rulesMs, replanCheckMs: checkMs, copyMs, cloneMs, tasks: TASKS });

printTable(`planner (${await machine()})`, rows);
if (args.has('json')) console.log(JSON.stringify(result));
