// Read-only commands: status, list, devices, logs.
import type { Command } from 'commander';
import { clientFrom, printJson } from '../context.js';
import { formatConstellation, formatDevices, formatSummaries } from '../format.js';

export function registerInspect(program: Command): void {
  program
    .command('status')
    .description('Show a constellation and its tasks (or list all when no id is given)')
    .argument('[id]', 'constellation id')
    .option('--json', 'print machine-readable state')
    .option('--explain', 'show why each attempt went to its device')
    .action(async (id: string | undefined, opts: { json?: boolean; explain?: boolean }, cmd: Command) => {
      const client = clientFrom(cmd);
      if (!id) {
        const items = await client.list();
        if (opts.json) printJson(items);
        else process.stdout.write(`${formatSummaries(items)}\n`);
        return;
      }
      const c = await client.get(id);
      if (opts.json) printJson(c);
      else process.stdout.write(`${formatConstellation(c, { explain: opts.explain })}\n`);
    });

  program
    .command('list')
    .description('List constellations, newest first')
    .option('--json', 'print machine-readable state')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const items = await clientFrom(cmd).list();
      if (opts.json) printJson(items);
      else process.stdout.write(`${formatSummaries(items)}\n`);
    });

  const devices = program
    .command('devices')
    .description('List devices, or drain/revoke one')
    .option('--json', 'print machine-readable state')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const items = await clientFrom(cmd).devices();
      if (opts.json) printJson(items);
      else process.stdout.write(`${formatDevices(items)}\n`);
    });
  devices
    .command('drain')
    .description('Stop giving new work to a device; its running tasks finish')
    .argument('<id>', 'device id or name')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const d = await clientFrom(cmd).deviceAction(id, 'drain');
      process.stdout.write(`${d.name} (${d.id}) is ${d.status}\n`);
    });
  devices
    .command('revoke')
    .description('Revoke a device credential: its session closes now and it cannot reconnect')
    .argument('<id>', 'device id or name')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const d = await clientFrom(cmd).deviceAction(id, 'revoke');
      process.stdout.write(`${d.name} (${d.id}) revoked\n`);
    });

  program
    .command('logs')
    .description("Print a task's output; -f follows it live")
    .argument('<id>', 'constellation id')
    .argument('<task>', 'task id')
    .option('-a, --attempt <n>', 'attempt number (default: all)', (v) => Number.parseInt(v, 10))
    .option('-f, --follow', 'keep printing new output until the task ends')
    .action(async (id: string, task: string, opts: { attempt?: number; follow?: boolean }, cmd: Command) => {
      const client = clientFrom(cmd);
      const abort = new AbortController();
      const stream = opts.follow ? client.events(id, abort.signal) : undefined;
      const pending = stream?.next();
      process.stdout.write(await client.logs(id, task, opts.attempt));
      if (!stream || !pending) return;
      const isDone = async (): Promise<boolean> => {
        const t = (await client.get(id)).tasks[task];
        return !t || ['succeeded', 'failed', 'timed_out', 'cancelled', 'skipped'].includes(t.status);
      };
      if (await isDone()) return abort.abort();
      let next = await pending;
      while (!next.done) {
        const ev = next.value;
        if (ev.type === 'log' && ev.data.taskId === task && (opts.attempt === undefined || ev.data.attempt === opts.attempt)) {
          (ev.data.stream === 'stderr' ? process.stderr : process.stdout).write(ev.data.text);
        }
        if (ev.type === 'task' && ev.data.taskId === task && (await isDone())) break;
        next = await stream.next();
      }
      abort.abort();
    });
}
