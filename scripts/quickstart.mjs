#!/usr/bin/env node
// `npm start`: the whole product on this machine with embedded defaults.
// Starts the orchestrator (SQLite journal under .orrery/), two local agents
// with different labels, submits examples/hello.yaml and follows it; then
// keeps everything running so the dashboard stays live. Ctrl-C stops all.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'orchestrator/bin/orrery.js');
const port = process.env.ORRERY_PORT ?? '7070';
const dataDir = join(root, '.orrery');
const graph = process.argv[2] ?? join(root, 'examples/hello.yaml');

if (!existsSync(join(root, 'orchestrator/dist/cli/main.js'))) {
  console.error('Orrery is not built yet: run `npm install` (it builds) or `npm run build`.');
  process.exit(1);
}

const children = [];
const run = (args, label) => {
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`[quickstart] ${label} exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
};

let stopping = false;
const stopAll = () => {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

mkdirSync(dataDir, { recursive: true });
const info = join(dataDir, 'data', 'server.json');
rmSync(info, { force: true });
console.log(`[quickstart] starting the orchestrator on http://127.0.0.1:${port} (data in ${join(dataDir, 'data')})`);
// Components log warnings only, so the example's progress stays readable;
// ORRERY_LOG_LEVEL=info shows everything.
const logLevel = process.env.ORRERY_LOG_LEVEL ?? 'warn';
run(['server', '--port', port, '--data-dir', join(dataDir, 'data'), '--no-auth', '--log-level', logLevel], 'orchestrator');

const deadline = Date.now() + 30_000;
while (!existsSync(info)) {
  if (Date.now() > deadline) {
    console.error('[quickstart] the orchestrator did not start within 30 s; see its log above.');
    stopAll();
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const { url, aipUrl, grpcUrl } = JSON.parse(readFileSync(info, 'utf8'));

console.log('[quickstart] starting two local agents: laptop (cpu,io) and edge-1 (edge,io)');
for (const [name, labels] of [
  ['laptop', 'cpu,io'],
  ['edge-1', 'edge,io'],
]) {
  run(['agent', '--server', aipUrl, '--name', name, '--labels', labels, '--data-dir', join(dataDir, `agent-${name}`), '--log-level', logLevel], `agent ${name}`);
}

console.log(`[quickstart] submitting ${graph}`);
const submit = spawn(process.execPath, [cli, '--server', url, 'submit', graph, '--wait'], { cwd: root, stdio: 'inherit' });
const code = await new Promise((r) => submit.on('exit', r));
console.log(
  `\n[quickstart] the example ${code === 0 ? 'succeeded' : 'did not succeed'}. Orrery keeps running:\n` +
    `  dashboard   ${url}/\n` +
    `  agents      npx orrery agent --server ${aipUrl} (or ${grpcUrl ?? 'grpc: off'}) --name <name>\n` +
    `  try         npx orrery --server ${url} status\n` +
    `              npx orrery --server ${url} submit examples/release-check.yaml --wait\n` +
    '  stop        Ctrl-C',
);
