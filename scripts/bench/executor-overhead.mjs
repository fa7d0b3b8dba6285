#!/usr/bin/env node
// Per-task overhead of the agent's executors, in process (no orchestrator):
// the time from run() to the Result for a task that does nothing, per kind.
//   shell: `true` (fork/exec of /bin/sh, process group, work dir)
//   http:  GET of a local server answering at once (one fetch on a kept-alive connection)
//   mcp:   start the test MCP server (node), handshake, one tool call, stop it
// Prints median and p90 per kind. Usage:
//   node scripts/bench/executor-overhead.mjs [--n 20] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const n = arg('n', 20);
const json = argv.includes('--json');

const { ShellExecutor, HttpExecutor, McpExecutor } = await import(path.join(root, 'device-agent/dist/index.js'));
const work = mkdtempSync(path.join(tmpdir(), 'orrery-exec-bench-'));
const settings = {
  workRoot: path.join(work, 'work'),
  maxForwardBytes: 8 << 20,
  maxCaptureBytes: 1 << 20,
  killGraceMs: 2000,
  baseEnv: process.env,
  keepWorkDirs: false,
};
const server = createServer((_req, res) => res.end('{"ok":true}'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
const mcpServer = { command: process.execPath, args: [path.join(root, 'device-agent/test/fixtures/mcp-server.mjs')] };

let seq = 0;
function assign(kind, fields) {
  seq += 1;
  return {
    constellationId: 'bench',
    taskId: `t${seq}`,
    attempt: 1,
    leaseMs: 0,
    timeoutMs: 0,
    inputs: {},
    outputs: [{ name: 'o', source: 'stdout', path: '' }],
    executor: { kind, command: '', env: {}, cwd: '', argsJson: '', ...fields },
  };
}

async function measure(label, executor, make, count) {
  const times = [];
  for (let i = 0; i < count + 1; i++) {
    const t0 = performance.now();
    const r = await executor.run(make()).done;
    if (r.outcome !== 'SUCCEEDED') throw new Error(`${label}: ${r.outcome} ${r.error}`);
    if (i > 0) times.push(performance.now() - t0); // the first warms up
  }
  times.sort((a, b) => a - b);
  const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  return { label, n: count, medianMs: q(0.5), p90Ms: q(0.9) };
}

try {
  const rows = [
    await measure('shell `true`', new ShellExecutor(settings), () => assign('shell', { command: 'true' }), n),
    await measure('http GET (local)', new HttpExecutor(settings), () => assign('http', { argsJson: JSON.stringify({ url }) }), n),
    await measure(
      'mcp start + call + stop (node server)',
      new McpExecutor(settings),
      () => assign('mcp', { argsJson: JSON.stringify({ server: mcpServer, tool: 'add', arguments: { a: 1, b: 2 } }) }),
      Math.max(3, Math.round(n / 4)),
    ),
  ];
  console.log(`executor overhead per task, node ${process.version}, ${rows[0].n} runs (mcp fewer)`);
  for (const r of rows) console.log(`${r.label.padEnd(40)} median ${r.medianMs.toFixed(1)} ms  p90 ${r.p90Ms.toFixed(1)} ms  (n=${r.n})`);
  if (json) console.log(JSON.stringify(rows));
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
