// `orrery submit <graph> [--wait]`: send a graph file, optionally follow it to the end.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import type { Constellation } from '../../model/types.js';
import type { ApiClient } from '../api-client.js';
import { clientFrom, printJson } from '../context.js';
import { formatConstellation, formatDuration, status } from '../format.js';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('Submit a task graph (YAML or JSON file, or - for stdin)')
    .argument('<graph>', 'path to a .yaml/.yml/.json graph file, or - to read stdin')
    .option('-w, --wait', 'follow the run and exit 0 only if it succeeds')
    .option('-i, --input <key=value...>', 'set or override a graph input')
    .option('--json', 'print machine-readable state')
    .option('-q, --quiet', 'with --wait: print only the final summary')
    .option('--replan <policy>', 'when a task fails for good: off, propose or auto (docs/planner.md)')
    .action(async (file: string, opts: { wait?: boolean; input?: string[]; json?: boolean; quiet?: boolean; replan?: string }, cmd: Command) => {
      const client = clientFrom(cmd);
      const source = file === '-' ? await readStdin() : await readFile(file, 'utf8');
      const format = extname(file) === '.json' ? 'json' : 'yaml';
      const inputs = Object.fromEntries((opts.input ?? []).map(parseAssignment));
      const doc = { source, format, ...(opts.input ? { inputs } : {}), ...(opts.replan ? { replan: opts.replan } : {}) };
      if (!opts.wait && opts.json) {
        printJson(await client.submit(doc));
        return;
      }
      const created = await client.submitMinimal(doc);
      if (!opts.wait) {
        const n = Object.values(created.counts).reduce((a, b) => a + (b ?? 0), 0);
        process.stdout.write(`submitted ${created.name} as ${created.id} (${n} tasks)\n`);
        return;
      }
      if (!opts.json) process.stdout.write(`submitted ${created.name} as ${created.id}; following…\n`);
      const final = await waitForEnd(client, created.id, { print: !opts.json && !opts.quiet });
      if (opts.json) printJson(final);
      else process.stdout.write(`\n${formatConstellation(final)}\n\n${status(final.status)} in ${formatDuration(final.updatedAt - final.createdAt)}\n`);
      process.exitCode = final.status === 'succeeded' ? 0 : 1;
    });
}

/**
 * Follows live events until the constellation ends; returns its final state.
 * Events drive the output; a slow poll guards against anything missed while
 * the stream (re)connects.
 */
export async function waitForEnd(client: ApiClient, id: string, opts: { print: boolean }): Promise<Constellation> {
  const abort = new AbortController();
  const events = client.events(id, abort.signal);
  const seen = new Map<string, string>();
  const show = (taskId: string, taskStatus: string, device?: string, why?: string): void => {
    if (!opts.print || seen.get(taskId) === taskStatus) return;
    seen.set(taskId, taskStatus);
    const at = new Date().toISOString().slice(11, 23);
    process.stdout.write(`  ${at}  ${taskId.padEnd(20)} ${status(taskStatus)}${device ? ` on ${device}` : ''}${why ? ` (${why})` : ''}\n`);
  };
  try {
    let pendingEvent = events.next();
    for (;;) {
      const current = await client.get(id);
      for (const t of Object.values(current.tasks)) {
        show(t.spec.id, t.status, t.attempts[t.attempts.length - 1]?.deviceId, t.waitingReason);
      }
      if (TERMINAL.has(current.status)) return current;
      const deadline = Date.now() + 2000;
      while (Date.now() < deadline) {
        const timer = new Promise<'tick'>((r) => setTimeout(() => r('tick'), deadline - Date.now()).unref());
        const got = await Promise.race([pendingEvent, timer]);
        if (got === 'tick') break;
        if (got.done) break;
        pendingEvent = events.next();
        const ev = got.value;
        if (ev.type === 'task') {
          const a = ev.data.attempts[ev.data.attempts.length - 1];
          show(ev.data.taskId, ev.data.status, a?.deviceId, ev.data.waitingReason);
        }
        if (ev.type === 'constellation' && TERMINAL.has(ev.data.status)) break;
      }
    }
  } finally {
    abort.abort();
  }
}

function parseAssignment(s: string): [string, string] {
  const eq = s.indexOf('=');
  if (eq <= 0) throw new Error(`--input expects key=value, got ${JSON.stringify(s)}`);
  return [s.slice(0, eq), s.slice(eq + 1)];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
