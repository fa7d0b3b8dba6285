#!/usr/bin/env node
// The fault-injection suite: runs each scenario against real orchestrator
// and agent processes and prints one table. See docs/fault-injection.md.
//
//   node scripts/fault/run.mjs [--quick] [--only a,b,c] [--json]
//
// Needs the build (npx tsc -b protocol device-agent orchestrator). Exits 1
// when a scenario did not end as expected.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
register(pathToFileURL(join(here, 'ts-hooks.mjs')).href, import.meta.url);

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? new Set((argv[onlyIdx + 1] ?? '').split(',').filter(Boolean)) : undefined;

for (const f of ['orchestrator/dist/index.js', 'device-agent/dist/index.js', 'protocol/dist/index.js']) {
  if (!existsSync(join(root, f))) {
    console.error(`missing ${f}: build first with  npx tsc -b protocol device-agent orchestrator`);
    process.exit(2);
  }
}

const { SCENARIOS } = await import('./scenarios/index.ts');

const log = (line) => process.stderr.write(`${line}\n`);
const reports = [];
for (const s of SCENARIOS) {
  if (only && !only.has(s.id)) continue;
  log(`\n== (${s.id}) ${s.title}`);
  const t0 = Date.now();
  let r;
  try {
    r = await s.run({ quick, log });
  } catch (err) {
    r = {
      id: s.id,
      title: s.title,
      injected: '(scenario crashed)',
      finalStates: {},
      expectedStates: {},
      executions: 0,
      allowed: 0,
      duplicated: [],
      notes: [String(err?.stack ?? err).slice(0, 2000)],
      ok: false,
      facts: {},
    };
  }
  const wallMs = Date.now() - t0;
  for (const one of Array.isArray(r) ? r : [r]) {
    reports.push(one);
    log(
      `   (${one.id}) ${one.skipped ? `SKIPPED: ${one.skipped}` : one.ok ? 'as expected' : 'NOT AS EXPECTED'} (${(wallMs / 1000).toFixed(1)} s)`,
    );
    for (const n of one.notes) log(`   - ${n}`);
  }
}

const states = (m) =>
  Object.entries(m)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ') || '-';
const rows = reports.map((r) => ({
  scenario: `(${r.id}) ${r.title}`,
  injected: r.injected,
  'final states': r.skipped ? 'skipped' : states(r.finalStates),
  expected: r.skipped ? '-' : states(r.expectedStates),
  executions: r.skipped
    ? '-'
    : `${r.executions} / ${r.allowed}${r.duplicated.length ? ` (twice: ${r.duplicated.length}${r.atLeastOnce ? ', at-least-once' : ''})` : ''}`,
  recovery: r.recovery ? `${(r.recovery.ms / 1000).toFixed(2)} s: ${r.recovery.what}` : '-',
  ok: r.skipped ? 'skip' : r.ok ? 'yes' : r.knownBug ? 'NO (known bug)' : 'NO',
}));

function printTable(rowsIn) {
  if (!rowsIn.length) return;
  const cols = Object.keys(rowsIn[0]);
  const width = Object.fromEntries(
    cols.map((c) => [c, Math.min(70, Math.max(c.length, ...rowsIn.map((r) => String(r[c]).length)))]),
  );
  const cell = (c, v) => {
    const s = String(v);
    return s.length > width[c] ? `${s.slice(0, width[c] - 1)}…` : s.padEnd(width[c]);
  };
  console.log(`| ${cols.map((c) => cell(c, c)).join(' | ')} |`);
  console.log(`|${cols.map((c) => '-'.repeat(width[c] + 2)).join('|')}|`);
  for (const r of rowsIn) console.log(`| ${cols.map((c) => cell(c, r[c])).join(' | ')} |`);
}

console.log(`\nOrrery fault injection (${quick ? 'quick' : 'full'}), ${new Date().toISOString()}`);
printTable(rows);
console.log('\nDetails:');
for (const r of reports) {
  console.log(`(${r.id}) ${r.title}: injected ${r.injected}`);
  if (r.recovery) console.log(`    recovery: ${r.recovery.ms} ms (${r.recovery.what})`);
  for (const n of r.notes) console.log(`    - ${n}`);
  if (r.skipped) console.log(`    skipped: ${r.skipped}`);
}
if (json) console.log(JSON.stringify(reports));
const known = reports.filter((r) => !r.ok && r.knownBug);
for (const r of known) console.log(`known bug, still present: (${r.id}) ${r.knownBug}`);
process.exit(reports.every((r) => r.ok || r.knownBug) ? 0 : 1);
