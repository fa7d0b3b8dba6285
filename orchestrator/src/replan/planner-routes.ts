// HTTP routes of the planner (docs/http-api.md "Planner"): plan, replan,
// proposals and the audit log. Roles: reads are viewer, writes operator,
// the audit log operator (see api/auth.ts).
import type { FastifyInstance } from 'fastify';
import { OrreryError } from '../errors.js';
import type { PlanningService } from './planning-service.js';

type Params = { id: string };

export function registerPlannerRoutes(app: FastifyInstance, planning: PlanningService): void {
  app.post('/v1/plan', async (req) => {
    const b = (req.body ?? {}) as { prompt?: unknown; planner?: unknown };
    if (typeof b.prompt !== 'string' || !b.prompt.trim())
      throw new OrreryError('INVALID_REQUEST', 'Send { "prompt": "<sentence>" }');
    if (b.planner !== undefined && b.planner !== 'builtin' && b.planner !== 'llm') {
      throw new OrreryError(
        'INVALID_REQUEST',
        'planner must be "builtin" or "llm" (or left out for the configured one)',
      );
    }
    const planned = await planning.plan(b.prompt, req.principal, b.planner);
    // `source` is kept for clients that predate `planner` (the dashboard reads it).
    return { graph: planned.graph, source: planned.planner.kind, planner: planned.planner, warnings: planned.warnings };
  });

  app.post<{ Params: Params }>('/v1/constellations/:id/replan', async (req) => {
    const b = (req.body ?? {}) as { hint?: unknown };
    if (b.hint !== undefined && typeof b.hint !== 'string')
      throw new OrreryError('INVALID_REQUEST', 'hint must be a string');
    return planning.replan(req.params.id, { requestedBy: req.principal, ...(b.hint ? { hint: b.hint } : {}) });
  });

  app.get<{ Params: Params }>('/v1/constellations/:id/proposals', async (req) => ({
    items: planning.listProposals(req.params.id),
  }));
  app.get<{ Params: Params }>('/v1/proposals/:id', async (req) => planning.getProposal(req.params.id));
  app.post<{ Params: Params }>('/v1/proposals/:id/approve', async (req) =>
    planning.approve(req.params.id, req.principal),
  );
  app.post<{ Params: Params }>('/v1/proposals/:id/reject', async (req) => {
    const b = (req.body ?? {}) as { reason?: unknown };
    return planning.reject(req.params.id, req.principal, typeof b.reason === 'string' ? b.reason : undefined);
  });

  app.get<{ Querystring: { constellation?: string; before?: string; limit?: string } }>(
    '/v1/planner/calls',
    async (req) => {
      const num = (v: string | undefined): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new OrreryError('INVALID_REQUEST', 'before and limit must be positive integers');
        return n;
      };
      const before = num(req.query.before);
      const limit = num(req.query.limit);
      return {
        items: planning.listCalls({
          ...(req.query.constellation ? { constellationId: req.query.constellation } : {}),
          ...(before !== undefined ? { before } : {}),
          ...(limit !== undefined ? { limit } : {}),
        }),
      };
    },
  );
}
