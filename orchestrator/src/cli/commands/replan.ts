// `orrery replan <id>`, `orrery proposals ...` and `orrery planner-calls`:
// replanning a constellation, deciding proposals, and the planner audit log.
import type { Command } from 'commander';
import type { PlannerCallRecord, Proposal } from '../../replan/planner-records.js';
import { clientFrom, printJson } from '../context.js';

const when = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');

export function formatProposal(p: Proposal): string {
  const ops = p.operations
    .map((o) => {
      const target =
        'task' in o
          ? ` ${o.task.id} -> ${JSON.stringify(o.task.target)}: ${o.task.executor.command ?? o.task.executor.kind}`
          : '';
      const id = 'taskId' in o && !('task' in o) ? ` ${o.taskId}` : '';
      return `    - ${o.op}${id}${target}`;
    })
    .join('\n');
  const decided = p.decidedAt ? ` by ${p.decidedBy} at ${when(p.decidedAt)}${p.error ? ` (${p.error})` : ''}` : '';
  return `${p.id}  ${p.status}${decided}\n  ${p.trigger === 'failure' ? `after ${p.taskId} failed` : 'on request'}, planner ${p.planner}${p.model ? ` (${p.model})` : ''}, against revision ${p.revision}\n  ${p.comment}\n${ops}`;
}

export function registerReplan(program: Command): void {
  program
    .command('replan')
    .description(
      'Ask the planner for an edit that repairs a constellation (applied at once only under the auto policy)',
    )
    .argument('<constellation>', 'constellation id')
    .option('--hint <text>', 'what you want changed (the built-in planner reads "on <device>: <command>")')
    .option('--json', 'print the answer as JSON')
    .action(async (id: string, opts: { hint?: string; json?: boolean }, cmd: Command) => {
      const client = clientFrom(cmd);
      const answer = await client.request<{ proposal: Proposal | null; comment: string }>(
        'POST',
        `/v1/constellations/${encodeURIComponent(id)}/replan`,
        opts.hint ? { hint: opts.hint } : {},
      );
      if (opts.json) return printJson(answer);
      if (!answer.proposal) {
        process.stdout.write(`no change proposed: ${answer.comment}\n`);
        return;
      }
      process.stdout.write(`${formatProposal(answer.proposal)}\n`);
      if (answer.proposal.status === 'pending')
        process.stdout.write(`approve: orrery proposals approve ${answer.proposal.id}\n`);
    });

  const proposals = program
    .command('proposals')
    .description("List a constellation's replan proposals, or approve/reject one")
    .argument('[constellation]', 'constellation id')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, opts: { json?: boolean }, cmd: Command) => {
      if (!id) {
        cmd.help({ error: true });
        return;
      }
      const client = clientFrom(cmd);
      const { items } = await client.request<{ items: Proposal[] }>(
        'GET',
        `/v1/constellations/${encodeURIComponent(id)}/proposals`,
      );
      if (opts.json) return printJson(items);
      process.stdout.write(items.length ? `${items.map(formatProposal).join('\n')}\n` : 'no proposals\n');
    });
  for (const action of ['approve', 'reject'] as const) {
    proposals
      .command(action)
      .description(action === 'approve' ? 'apply a pending proposal through the edit API' : 'reject a pending proposal')
      .argument('<proposal>', 'proposal id (p-...)')
      .option('--reason <text>', 'why (reject only)')
      .option('--json', 'print JSON')
      .action(async (pid: string, opts: { reason?: string; json?: boolean }, cmd: Command) => {
        const client = clientFrom(cmd);
        const p = await client.request<Proposal>(
          'POST',
          `/v1/proposals/${encodeURIComponent(pid)}/${action}`,
          action === 'reject' && opts.reason ? { reason: opts.reason } : {},
        );
        if (opts.json) return printJson(p);
        process.stdout.write(`${formatProposal(p)}\n`);
      });
  }

  program
    .command('planner-calls')
    .description('The planner audit log: every plan and replan call with prompt, response and outcome (operator)')
    .option('-c, --constellation <id>', 'only calls about this constellation')
    .option('-n, --limit <n>', 'how many, newest first', '20')
    .option('--json', 'print JSON (with full prompts and responses)')
    .action(async (opts: { constellation?: string; limit: string; json?: boolean }, cmd: Command) => {
      const client = clientFrom(cmd);
      const q = new URLSearchParams({
        limit: opts.limit,
        ...(opts.constellation ? { constellation: opts.constellation } : {}),
      });
      const { items } = await client.request<{ items: PlannerCallRecord[] }>('GET', `/v1/planner/calls?${q}`);
      if (opts.json) return printJson(items);
      for (const c of items) {
        process.stdout.write(
          `#${c.id} ${when(c.at)} ${c.kind} ${c.constellationId ?? ''} planner=${c.planner}${c.model ? `(${c.model})` : ''} by ${c.requestedBy} -> ${c.outcome} in ${c.durationMs} ms${c.error ? `: ${c.error}` : ''}\n`,
        );
      }
      if (items.length === 0) process.stdout.write('no planner calls\n');
    });
}
