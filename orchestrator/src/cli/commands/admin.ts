// Administration: API tokens and device enrollment tokens.
import type { Command } from 'commander';
import { clientFrom, printJson } from '../context.js';

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseDuration(v: string): number {
  const m = DURATION.exec(v);
  if (!m) throw new Error(`expected a duration like 30m, 12h or 7d, got ${v}`);
  return Number(m[1]) * (UNIT[m[2] as string] as number);
}

export function registerAdmin(program: Command): void {
  const tokens = program.command('tokens').description('API tokens for people and scripts (admin)');
  tokens
    .command('create')
    .description('Create an API token; it is shown once')
    .requiredOption('--role <role>', 'admin, operator or viewer')
    .option('--name <name>', 'who or what uses it')
    .action(async (opts: { role: string; name?: string }, cmd: Command) => {
      const t = await clientFrom(cmd).request<{ id: string; token: string }>('POST', '/v1/admin/api-tokens', opts);
      process.stdout.write(`${t.token}\n`);
      process.stderr.write(`token ${t.id} (${opts.role}) created; it is not shown again.\n`);
    });

  const enroll = program.command('enroll').description('Enrollment tokens that let new devices join (admin)');
  enroll
    .command('create')
    .description('Create an enrollment token for `orrery agent --token`')
    .option('--labels <labels>', 'labels granted to devices enrolled with it (comma-separated)')
    .option('--expires <duration>', 'e.g. 1h, 7d', parseDuration)
    .option('--uses <n>', 'how many devices may use it', (v) => Number.parseInt(v, 10))
    .action(async (opts: { labels?: string; expires?: number; uses?: number }, cmd: Command) => {
      const t = await clientFrom(cmd).request<{ id: string; token: string }>('POST', '/v1/admin/enrollment-tokens', {
        labels: opts.labels ? opts.labels.split(',').map((s) => s.trim()).filter(Boolean) : [],
        ...(opts.expires ? { expiresInMs: opts.expires } : {}),
        ...(opts.uses ? { maxUses: opts.uses } : {}),
      });
      process.stdout.write(`${t.token}\n`);
      process.stderr.write(`enrollment token ${t.id} created. On the device: orrery agent --server <url> --name <name> --token <token>\n`);
    });
  enroll
    .command('list')
    .description('List enrollment tokens (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      printJson((await clientFrom(cmd).request<{ items: unknown[] }>('GET', '/v1/admin/enrollment-tokens')).items);
    });
}
