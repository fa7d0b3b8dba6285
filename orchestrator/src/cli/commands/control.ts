// Commands that change a running constellation: edit, cancel, pause, resume, retry.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { EditBatch } from '../../model/types.js';
import { clientFrom, printJson } from '../context.js';
import { formatConstellation } from '../format.js';

export function registerControl(program: Command): void {
  program
    .command('edit')
    .description('Apply an edit batch (YAML/JSON: { revision?, operations: [...] }) atomically')
    .argument('<id>', 'constellation id')
    .argument('<edit-file>', 'file with the batch; without revision the current one is used')
    .option('--json', 'print machine-readable state')
    .action(async (id: string, file: string, opts: { json?: boolean }, cmd: Command) => {
      const client = clientFrom(cmd);
      const doc = parseYaml(await readFile(file, 'utf8')) as Partial<EditBatch> | EditBatch['operations'];
      const batch: Partial<EditBatch> = Array.isArray(doc) ? { operations: doc } : doc;
      const revision = batch.revision ?? (await client.get(id)).revision;
      const after = await client.edit(id, { ...batch, revision, operations: batch.operations ?? [] });
      if (opts.json) printJson(after);
      else process.stdout.write(`edit applied: ${after.name} is now at revision ${after.revision}\n${formatConstellation(after)}\n`);
    });

  for (const action of ['cancel', 'pause', 'resume'] as const) {
    const describe = {
      cancel: 'Cancel a constellation: running tasks are killed, nothing new starts',
      pause: 'Pause a constellation: running tasks finish, nothing new starts',
      resume: 'Resume a paused constellation',
    }[action];
    program
      .command(action)
      .description(describe)
      .argument('<id>', 'constellation id')
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const c = await clientFrom(cmd).action(id, action);
        process.stdout.write(`${c.name} (${c.id}) is ${c.status}\n`);
      });
  }

  program
    .command('retry')
    .description('Retry a failed, timed-out, cancelled or skipped task (its skipped dependents come back)')
    .argument('<id>', 'constellation id')
    .argument('<task>', 'task id')
    .action(async (id: string, task: string, _opts: unknown, cmd: Command) => {
      const c = await clientFrom(cmd).retry(id, task);
      process.stdout.write(`${task} queued again (revision ${c.revision})\n`);
    });
}
