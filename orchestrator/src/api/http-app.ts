// Builds the Fastify app: auth, routes, SSE, dashboard and problem+json errors.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { type ArtifactRoutesDeps, registerArtifactRoutes } from '../artifacts/artifact-routes.js';
import { registerAuth } from './auth.js';
import { registerEventStream } from './event-stream.js';
import { sendProblem } from './problem.js';
import { registerRoutes } from './routes.js';
import type { AdminService, OrchestratorService } from './service.js';
import type { PlanningService } from '../replan/planning-service.js';
import { registerPlannerRoutes } from '../replan/planner-routes.js';
import { registerStaticFiles } from './static-files.js';
import { OrreryError } from '../errors.js';

export interface HttpAppOptions {
  service: OrchestratorService;
  admin: AdminService;
  /** Plan, replan, proposals and the planner audit log (docs/planner.md). */
  planning?: PlanningService;
  authDisabled: boolean;
  dashboardDir?: string;
  logger: Logger;
  /** Largest request body (a 100k-task graph is ~20 MB of JSON). */
  bodyLimitBytes?: number;
  https?: { cert: Buffer; key: Buffer };
  /** Artifact listing and download (GET /v1/artifacts/:digest). */
  artifacts?: ArtifactRoutesDeps;
}

export function buildHttpApp(opts: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    // Per-request logs would drown the engine's; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: opts.bodyLimitBytes ?? 64 * 1024 * 1024,
    ...(opts.https ? { https: opts.https } : {}),
  }) as unknown as FastifyInstance;
  // YAML and plain text submissions are accepted as { source } documents.
  app.addContentTypeParser(['application/yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) =>
    done(null, { source: body as string, format: 'yaml' }),
  );
  app.setErrorHandler((err, _req, reply) => {
    if (!(err instanceof OrreryError) && !(err as { statusCode?: number }).statusCode) opts.logger.error({ err }, 'request failed');
    return sendProblem(reply, err);
  });
  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, new OrreryError('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`, { status: 404 })),
  );
  registerAuth(app, { disabled: opts.authDisabled, admin: opts.admin });
  registerRoutes(app, opts.service, opts.admin);
  if (opts.planning) registerPlannerRoutes(app, opts.planning);
  if (opts.artifacts) registerArtifactRoutes(app, opts.artifacts);
  registerEventStream(app, opts.service);
  registerStaticFiles(app, opts.dashboardDir);
  return app;
}
