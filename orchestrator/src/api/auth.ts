// API authentication: bearer tokens with a role. Disabled only when the
// operator asks for it explicitly, and then only on a loopback listener.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OrreryError } from '../errors.js';
import type { AdminService, Role } from './service.js';

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

declare module 'fastify' {
  interface FastifyRequest {
    role: Role;
    principal: string;
  }
}

/** Routes anyone may call: probes and the dashboard's static files (which hold no data). */
const OPEN_ROUTES = new Set(['/healthz', '/metrics', '/*']);

/**
 * The role a route needs, decided on the matched route pattern, never on the
 * raw URL: percent-escapes (`/%761/admin`) must not pick a weaker rule.
 */
export function requiredRole(method: string, route: string): Role {
  if (route.startsWith('/v1/admin/')) return 'admin';
  if (route === '/v1/devices/:id/revoke') return 'admin';
  // Planner transcripts may hold prompts and outputs: not for viewers.
  if (route === '/v1/planner/calls') return 'operator';
  return method === 'GET' || method === 'HEAD' ? 'viewer' : 'operator';
}

export function registerAuth(app: FastifyInstance, opts: { disabled: boolean; admin: AdminService }): void {
  app.decorateRequest('role', 'viewer');
  app.decorateRequest('principal', 'anonymous');
  app.addHook('onRequest', async (req: FastifyRequest) => {
    // Unmatched requests (404s) are authenticated too: they reveal nothing either way.
    const route = req.routeOptions.url ?? '';
    if (OPEN_ROUTES.has(route)) return;
    if (opts.disabled) {
      req.role = 'admin';
      req.principal = 'local';
      return;
    }
    const token = bearer(req);
    if (!token) {
      throw new OrreryError('UNAUTHENTICATED', 'An API token is required', {
        status: 401,
        hint: 'Send "Authorization: Bearer <token>"; an admin creates one with `orrery tokens create --role operator`.',
      });
    }
    const role = opts.admin.verifyApiToken(token);
    if (!role) throw new OrreryError('UNAUTHENTICATED', 'The API token is unknown or revoked', { status: 401 });
    const need = requiredRole(req.method, route);
    if (RANK[role] < RANK[need]) {
      throw new OrreryError('FORBIDDEN', `This needs the ${need} role; your token has ${role}`, { status: 403 });
    }
    req.role = role;
    req.principal = `token:${role}`;
  });
  // Who the caller is, so a UI can hide what its role may not do (the server enforces it either way).
  app.get('/v1/whoami', async (req) => ({ role: req.role, principal: req.principal, authRequired: !opts.disabled }));
}

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  // EventSource cannot set headers, so the SSE stream (only) also takes a query token.
  if (req.routeOptions.url !== '/v1/events') return undefined;
  const q = (req.query as Record<string, string | undefined>)?.access_token;
  return q || undefined;
}
