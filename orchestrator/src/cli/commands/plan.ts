// `orrery plan "<sentence>"`: turn a sentence into a graph to review or submit.
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Constellation } from '../../model/types.js';
import { clientFrom, printJson } from '../context.js';
import { waitForEnd } from './submit.js';
import { formatConstellation } from '../format.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('Plan a task graph from a sentence (uses the configured LLM endpoint, or built-in templates)')
    .argument('<sentence...>', 'what you want done')
    .option('--json', 'print the graph as JSON instead of YAML')
    .option('--submit', 'submit the planned graph right away')
    .option('-w, --wait', 'with --submit: follow it to the end')
    .action(async (words: string[], opts: { json?: boolean; submit?: boolean; wait?: boolean }, cmd: Command) => {
      const client = clientFrom(cmd);
      const planned = await client.request<{ graph: unknown; source: string }>('POST', '/v1/plan', { prompt: words.join(' ') });
      if (!opts.submit) {
        if (opts.json) printJson(planned.graph);
        else process.stdout.write(`# planned by ${planned.source}; review, then: orrery submit <file>\n${stringify(planned.graph)}`);
        return;
      }
      const created = await client.submit(planned.graph);
      process.stdout.write(`submitted ${created.name} as ${created.id}\n`);
      if (opts.wait) {
        const final: Constellation = await waitForEnd(client, created.id, { print: true });
        process.stdout.write(`${formatConstellation(final)}\n`);
        process.exitCode = final.status === 'succeeded' ? 0 : 1;
      }
    });
}
