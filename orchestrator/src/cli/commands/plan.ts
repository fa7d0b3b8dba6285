// `orrery plan "<sentence>"`: plan a graph, show it as a tree, and submit it
// only when confirmed (a TTY prompt) or with --yes. Exit codes: 0 submitted
// (or printed with --json/--yaml), 1 with --wait when the run failed, 2 an
// error, 3 not submitted (declined, or no terminal to ask and no --yes).
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Constellation } from '../../model/types.js';
import { formatPlanTree } from '../../planner/plan-tree.js';
import type { PlanResult } from '../../planner/types.js';
import type { ApiClient } from '../api-client.js';
import { clientFrom, printJson } from '../context.js';
import { formatConstellation } from '../format.js';
import { waitForEnd } from './submit.js';

export const NOT_SUBMITTED_EXIT_CODE = 3;

const POLICIES = ['off', 'propose', 'auto'];

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export async function submitPlanned(
  client: ApiClient,
  graph: unknown,
  opts: { replan?: string; wait?: boolean },
): Promise<void> {
  const q = opts.replan ? `?replan=${encodeURIComponent(opts.replan)}` : '';
  const created = await client.request<Constellation>('POST', `/v1/constellations${q}`, graph);
  process.stdout.write(`submitted ${created.name} as ${created.id}\n`);
  if (opts.wait) {
    const final: Constellation = await waitForEnd(client, created.id, { print: true });
    process.stdout.write(`${formatConstellation(final)}\n`);
    process.exitCode = final.status === 'succeeded' ? 0 : 1;
  }
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('Plan a task graph from a sentence, show it, and submit it once confirmed (docs/planner.md)')
    .argument('<sentence...>', 'what you want done, e.g. "on server: make; then on phone: ./test.sh"')
    .option('-y, --yes', 'submit without asking')
    .option('--submit', 'same as --yes (kept for older scripts)')
    .option('--json', 'print the graph as JSON (submits only with --yes)')
    .option('--yaml', 'print the graph as YAML (submits only with --yes)')
    .option('--builtin', 'use the built-in planner (the controlled language) even when the server has an LLM')
    .option('--replan <policy>', 'replanning policy when submitting: off, propose or auto')
    .option('-w, --wait', 'after submitting, follow the run to its end')
    .addHelpText(
      'after',
      `\nExit codes: 0 submitted (or printed with --json/--yaml), 1 the run failed (--wait), 2 error,\n${NOT_SUBMITTED_EXIT_CODE} not submitted (declined, or no terminal to confirm and no --yes).`,
    )
    .action(
      async (
        words: string[],
        opts: {
          yes?: boolean;
          submit?: boolean;
          json?: boolean;
          yaml?: boolean;
          replan?: string;
          wait?: boolean;
          builtin?: boolean;
        },
        cmd: Command,
      ) => {
        if (opts.replan !== undefined && !POLICIES.includes(opts.replan))
          throw new Error('--replan must be off, propose or auto');
        const client = clientFrom(cmd);
        const planned = await client.request<PlanResult>('POST', '/v1/plan', {
          prompt: words.join(' '),
          ...(opts.builtin ? { planner: 'builtin' } : {}),
        });
        const yes = opts.yes || opts.submit;
        if (opts.json || opts.yaml) {
          if (opts.json) printJson(planned.graph);
          else process.stdout.write(stringify(planned.graph));
          for (const w of planned.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
          if (yes) await submitPlanned(client, planned.graph, opts);
          return;
        }
        process.stdout.write(`${formatPlanTree({ ...planned, warnings: planned.warnings ?? [] })}\n`);
        if (!yes) {
          if (!process.stdin.isTTY || !process.stdout.isTTY) {
            process.stderr.write(
              'not submitted: no terminal to confirm on; pass --yes to submit (or --yaml to save the graph)\n',
            );
            process.exitCode = NOT_SUBMITTED_EXIT_CODE;
            return;
          }
          if (!(await confirm('Submit this plan? [y/N] '))) {
            process.stderr.write('not submitted\n');
            process.exitCode = NOT_SUBMITTED_EXIT_CODE;
            return;
          }
        }
        await submitPlanned(client, planned.graph, opts);
      },
    );
}
