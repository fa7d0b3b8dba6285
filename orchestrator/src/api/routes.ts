// The /v1 routes: thin translations from HTTP to OrchestratorService calls.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OrreryError } from '../errors.js';
import type { Constellation, EditBatch } from '../model/types.js';
import type { AdminService, OrchestratorService, Role } from './service.js';

type Params = { id: string; task: string };

/** A change held in memory while the journal cannot be written (see EngineService.afterCommit). */
const isHeld = (c: unknown): boolean => (c as { durability?: string }).durability === 'held';

/** The answer to a write: 202 when held; only the summary when the client sent Prefer: return=minimal (RFC 7240). */
function answerWrite(service: OrchestratorService, req: FastifyRequest, reply: FastifyReply, c: Constellation): unknown {
  if (isHeld(c)) reply.code(202);
  if (!/return=minimal/.test(String(req.headers.prefer ?? ''))) return c;
  return { ...service.summary(c.id), ...(isHeld(c) ? { durability: 'held' } : {}) };
}

export function registerRoutes(
  app: FastifyInstance,
  service: OrchestratorService,
  admin: AdminService,
): void {
  app.post('/v1/constellations', async (req, reply) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new OrreryError('INVALID_REQUEST', 'Send a graph document as a JSON object, or { "source": "<yaml>" }');
    }
    const isSource = typeof body.source === 'string' && body.tasks === undefined;
    const inputs = isSource && body.inputs && typeof body.inputs === 'object' ? (body.inputs as Record<string, string>) : undefined;
    // Replanning policy at submit (docs/planner.md): ?replan=, or "replan" beside "source".
    const replan = (req.query as { replan?: string }).replan ?? (isSource ? body.replan : undefined);
    if (replan !== undefined && replan !== 'off' && replan !== 'propose' && replan !== 'auto') {
      throw new OrreryError('INVALID_REQUEST', 'replan must be off, propose or auto');
    }
    const created = await (isSource
      ? service.submit(undefined, {
          owner: req.principal,
          source: body.source as string,
          ...(body.format === 'json' || body.format === 'yaml' ? { format: body.format } : {}),
          ...(inputs ? { inputs } : {}),
          ...(replan ? { replan } : {}),
        })
      : service.submit(body, { owner: req.principal, ...(replan ? { replan } : {}) }));
    reply.header('location', `/v1/constellations/${created.id}`).code(201);
    return answerWrite(service, req, reply, created);
  });

  app.get('/v1/constellations', async () => ({ items: service.list() }));
  app.get<{ Params: Params }>('/v1/constellations/:id', async (req) => service.get(req.params.id));
  app.get<{ Params: Params }>('/v1/constellations/:id/history', async (req) => ({ items: service.history(req.params.id) }));

  app.post<{ Params: Params }>('/v1/constellations/:id/edits', async (req, reply) => {
    const batch = req.body as EditBatch | undefined;
    if (!batch || typeof batch.revision !== 'number' || !Array.isArray(batch.operations)) {
      throw new OrreryError('INVALID_REQUEST', 'An edit is { "revision": <number>, "operations": [ ... ] }', {
        hint: 'Read the current revision with GET /v1/constellations/:id',
      });
    }
    return answerWrite(service, req, reply, await service.edit(req.params.id, batch, req.principal));
  });

  for (const action of ['cancel', 'pause', 'resume'] as const) {
    app.post<{ Params: Params }>(`/v1/constellations/:id/${action}`, async (req, reply) =>
      answerWrite(service, req, reply, await service[action](req.params.id, req.principal)),
    );
  }

  app.post<{ Params: Params }>('/v1/constellations/:id/tasks/:task/retry', async (req, reply) =>
    answerWrite(service, req, reply, await service.retryTask(req.params.id, req.params.task, req.principal)),
  );

  app.get<{ Params: Params }>('/v1/constellations/:id/tasks/:task', async (req) => service.task(req.params.id, req.params.task));

  app.get<{ Params: Params; Querystring: { attempt?: string } }>('/v1/constellations/:id/tasks/:task/logs', async (req, reply) => {
    const attempt = req.query.attempt === undefined ? undefined : Number(req.query.attempt);
    if (attempt !== undefined && !Number.isInteger(attempt)) throw new OrreryError('INVALID_REQUEST', 'attempt must be an integer');
    return reply.type('text/plain; charset=utf-8').send(service.logs(req.params.id, req.params.task, attempt));
  });

  app.get('/v1/devices', async () => ({ items: service.devices() }));
  app.post<{ Params: Params }>('/v1/devices/:id/drain', async (req) => service.drainDevice(req.params.id));
  app.post<{ Params: Params }>('/v1/devices/:id/revoke', async (req) => service.revokeDevice(req.params.id));

  app.post('/v1/admin/enrollment-tokens', async (req, reply) => {
    const b = (req.body ?? {}) as { expiresInMs?: number; maxUses?: number; labels?: string[] };
    return reply.code(201).send(admin.createEnrollmentToken(b));
  });
  app.get('/v1/admin/enrollment-tokens', async () => ({ items: admin.listEnrollmentTokens() }));
  app.post('/v1/admin/api-tokens', async (req, reply) => {
    const b = (req.body ?? {}) as { role?: Role; name?: string };
    if (b.role !== 'admin' && b.role !== 'operator' && b.role !== 'viewer') {
      throw new OrreryError('INVALID_REQUEST', 'role must be admin, operator or viewer');
    }
    return reply.code(201).send(admin.createApiToken({ role: b.role, name: b.name }));
  });

  app.get('/healthz', async (_req, reply) => {
    const h = service.health();
    return reply.code(h.status === 'ok' ? 200 : 503).send(h);
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(service.metrics()));
}
