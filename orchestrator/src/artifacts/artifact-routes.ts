// HTTP access to artifacts: list a constellation's (or one task's) artifacts,
// and download a blob by digest, streamed with its length and digest headers.
import { createReadStream } from 'node:fs';
import { isDigest } from '@orrery/protocol';
import type { FastifyInstance } from 'fastify';
import { notFound, OrreryError } from '../errors.js';
import type { Constellation } from '../model/types.js';
import type { ArtifactHub } from './artifact-hub.js';
import { listArtifacts } from './referenced.js';

export interface ArtifactRoutesDeps {
  hub: ArtifactHub;
  constellation(id: string): Constellation | undefined;
}

export function registerArtifactRoutes(app: FastifyInstance, deps: ArtifactRoutesDeps): void {
  app.get<{ Params: { id: string }; Querystring: { task?: string } }>(
    '/v1/constellations/:id/artifacts',
    async (req) => {
      const c = deps.constellation(req.params.id);
      if (!c) throw notFound('constellation', req.params.id);
      const task = req.query.task;
      if (task !== undefined && !Object.hasOwn(c.tasks, task)) throw notFound('task', task);
      return { items: listArtifacts(c, task) };
    },
  );

  app.get<{ Params: { digest: string } }>('/v1/artifacts/:digest', async (req, reply) => {
    const digest = req.params.digest.replace(/^sha256:/, '').toLowerCase();
    if (!isDigest(digest)) {
      throw new OrreryError('ARTIFACT_BAD_DIGEST', `${JSON.stringify(req.params.digest)} is not a sha256 digest`, {
        hint: 'Give the 64 hex digits listed by GET /v1/constellations/:id/artifacts (or `orrery artifacts`).',
      });
    }
    const size = deps.hub.store.sizeOf(digest);
    if (size === undefined) {
      throw new OrreryError('ARTIFACT_NOT_FOUND', `no artifact ${digest} is stored`, {
        status: 404,
        hint: 'It may never have been produced, or was evicted as unreferenced (see docs/storage.md "Artifacts").',
      });
    }
    deps.hub.store.touch(digest);
    const b64 = Buffer.from(digest, 'hex').toString('base64');
    reply
      .type('application/octet-stream')
      .header('content-length', String(size))
      .header('etag', `"${digest}"`)
      .header('repr-digest', `sha-256=:${b64}:`)
      .header('x-orrery-digest', `sha256:${digest}`)
      // private: the response needs a bearer token, so shared caches (proxies, CDNs) must not keep it.
      .header('cache-control', 'private, max-age=31536000, immutable');
    return reply.send(createReadStream(deps.hub.store.pathOf(digest)));
  });
}
