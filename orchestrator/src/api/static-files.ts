// Serves the built dashboard. Small on purpose: a handful of hashed assets
// and index.html as the fallback for client-side routes.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OrreryError } from '../errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export function registerStaticFiles(app: FastifyInstance, root: string | undefined): void {
  app.get('/*', async (req, reply) => {
    if (!root) return reply.code(404).type('text/plain').send('Dashboard not built: run `npm run build`.');
    const urlPath = decodeURIComponent((req.params as { '*': string })['*'] ?? '');
    if (urlPath.startsWith('v1/')) throw new OrreryError('NOT_FOUND', `No route ${req.method} /${urlPath}`, { status: 404 });
    const resolved = normalize(join(root, urlPath));
    if (!resolved.startsWith(root + sep) && resolved !== root) return reply.code(404).send();
    const file = (await isFile(resolved)) ? resolved : join(root, 'index.html');
    if (!(await isFile(file))) return reply.code(404).type('text/plain').send('Dashboard not built: run `npm run build`.');
    const cache = file.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply
      .type(TYPES[extname(file)] ?? 'application/octet-stream')
      .header('cache-control', cache)
      .send(await readFile(file));
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
