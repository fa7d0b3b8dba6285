// `orrery artifacts <constellation> [task]` lists stored artifacts;
// `orrery artifacts get <digest> -o <file>` downloads one and checks its digest.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { OrreryError } from '../../errors.js';
import { clientFrom, printJson } from '../context.js';

interface Item {
  task: string;
  name: string;
  digest: string;
  size: number;
  attempt?: number;
}

function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function digestArg(v: string): string {
  const d = v.replace(/^sha256:/, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(d)) throw new InvalidArgumentError('expected a sha256 digest (64 hex digits)');
  return d;
}

export function registerArtifacts(program: Command): void {
  const cmd = program
    .command('artifacts')
    .description("List a constellation's artifacts (or one task's), or download one with `artifacts get`")
    .argument('<constellation>', 'constellation id')
    .argument('[task]', 'only this task')
    .option('--json', 'print machine-readable items')
    .action(async (id: string, task: string | undefined, opts: { json?: boolean }, c: Command) => {
      const q = task ? `?task=${encodeURIComponent(task)}` : '';
      const { items } = await clientFrom(c).request<{ items: Item[] }>(
        'GET',
        `/v1/constellations/${encodeURIComponent(id)}/artifacts${q}`,
      );
      if (opts.json) {
        printJson(items);
        return;
      }
      if (items.length === 0) {
        process.stdout.write('no artifacts stored (yet)\n');
        return;
      }
      const rows = items.map((i) => [`${i.task}.${i.name}`, formatSize(i.size), i.digest]);
      const w = Math.max(...rows.map((r) => (r[0] as string).length));
      const s = Math.max(...rows.map((r) => (r[1] as string).length));
      for (const [name, size, digest] of rows) {
        process.stdout.write(`${(name as string).padEnd(w)}  ${(size as string).padStart(s)}  ${digest}\n`);
      }
    });
  cmd
    .command('get')
    .description('Download an artifact by digest; the bytes are checked against it before the file appears')
    .argument('<digest>', 'sha256 digest', digestArg)
    .requiredOption('-o, --output <file>', 'where to write it (- for stdout)')
    .action(async (digest: string, opts: { output: string }, c: Command) => {
      const res = await clientFrom(c).download(`/v1/artifacts/${digest}`);
      if (!res.body) throw new OrreryError('ARTIFACT_NOT_FOUND', 'the orchestrator sent no body');
      const hash = createHash('sha256');
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
      body.on('data', (d: Buffer) => hash.update(d));
      if (opts.output === '-') {
        await pipeline(body, process.stdout);
        if (hash.digest('hex') !== digest)
          throw new OrreryError('ARTIFACT_INTEGRITY', 'the downloaded bytes do not match the digest');
        return;
      }
      const dest = path.resolve(opts.output);
      const tmp = `${dest}.${randomBytes(4).toString('hex')}.part`;
      try {
        await pipeline(body, createWriteStream(tmp));
        const got = hash.digest('hex');
        if (got !== digest) {
          throw new OrreryError(
            'ARTIFACT_INTEGRITY',
            `the download hashes to ${got}, not ${digest}; nothing was written`,
            {
              hint: 'Try again; if it persists the stored blob is damaged.',
            },
          );
        }
        renameSync(tmp, dest);
      } finally {
        rmSync(tmp, { force: true });
      }
      process.stderr.write(
        `wrote ${dest} (${formatSize(Number(res.headers.get('content-length') ?? 0))}, sha256 ${digest})\n`,
      );
    });
}
