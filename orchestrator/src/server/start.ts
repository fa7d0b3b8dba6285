// Starts one orchestrator process: store, engine, AIP endpoints, HTTP API,
// dashboard. Writes <data-dir>/server.json once it listens, so scripts and
// tests can find the bound ports.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { buildHttpApp } from '../api/http-app.js';
import { ArtifactHub } from '../artifacts/artifact-hub.js';
import { referencedDigests } from '../artifacts/referenced.js';
import { engineAccess } from '../artifacts/transfer-access.js';
import { createAgentGateway } from '../engine/agent-gateway.js';
import { Engine } from '../engine/engine.js';
import { EngineService } from '../engine/orchestrator-service.js';
import { OrreryError } from '../errors.js';
import { createLogger } from '../logger.js';
import { createPlanner, type DeviceProfile } from '../planner/index.js';
import { PlannerRecords } from '../replan/planner-records.js';
import { PlannerCallRetention } from '../replan/planner-retention.js';
import { PlanningService } from '../replan/planning-service.js';
import { openSqliteStore } from '../store/index.js';
import { startTracing } from '../tracing/index.js';
import { isLoopback, type ServerOptions } from './server-options.js';

export interface RunningServer {
  url: string;
  aipUrl: string;
  grpcUrl?: string;
  logger: Logger;
  engine: Engine;
  close(): Promise<void>;
}

/** The built dashboard: inside an installed package, or beside it in the repository. */
function defaultDashboardDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [resolve(here, '../../dashboard-dist'), resolve(here, '../../../dashboard/dist')]) {
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const logger = createLogger({ level: opts.logLevel, name: 'orchestrator' });
  if (opts.authDisabled && !isLoopback(opts.host)) {
    throw new OrreryError('AUTH_REQUIRED', `--no-auth is only allowed on a loopback address, not ${opts.host}`, {
      hint: 'Listen on 127.0.0.1, or keep auth on and create tokens with `orrery tokens create`.',
    });
  }
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const store = openSqliteStore({ dataDir, logger });
  const engine = Engine.open({
    store,
    logger,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    missedHeartbeats: opts.missedHeartbeats,
    snapshotEveryEvents: opts.snapshotEveryEvents,
    ...(opts.recoveryGraceMs !== undefined ? { recoveryGraceMs: opts.recoveryGraceMs } : {}),
    ...(opts.minSnapshotIntervalMs !== undefined ? { minSnapshotIntervalMs: opts.minSnapshotIntervalMs } : {}),
  });
  const tracing = startTracing(engine, logger);
  const service = new EngineService(engine, store);
  const artifacts = new ArtifactHub({
    dataDir,
    logger,
    ...(opts.artifactMaxBytes !== undefined ? { maxArtifactBytes: opts.artifactMaxBytes } : {}),
    ...(opts.artifactStoreMaxBytes !== undefined ? { retention: { maxStoreBytes: opts.artifactStoreMaxBytes } } : {}),
    referenced: () => referencedDigests(engine.state.constellations.values()),
    access: engineAccess(
      (id) => engine.devices.get(id),
      (id) => engine.state.constellations.get(id),
    ),
  });
  engine.metrics.extra.push(() => artifacts.renderMetrics());
  engine.artifactHolders = (digest) => artifacts.holdersOf(digest);
  const gateway = createAgentGateway({
    artifacts,
    engine,
    store,
    logger,
    authDisabled: opts.authDisabled,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    missedHeartbeats: opts.missedHeartbeats,
  });
  const plannerRetention = new PlannerCallRetention(store.db, opts.plannerRetention ?? {}, logger);
  const planning = new PlanningService({
    service,
    planner: createPlanner(opts.planner),
    records: new PlannerRecords(store.db, plannerRetention),
    devices: () =>
      [...engine.devices.all()].map(
        (d): DeviceProfile => ({
          id: d.id,
          name: d.name,
          status: d.status,
          labels: d.labels,
          os: d.capabilities.os,
          arch: d.capabilities.arch,
          features: d.capabilities.features ?? [],
          executors: d.capabilities.executors ?? [],
          cpus: d.capabilities.cpus ?? 0,
          memoryMb: d.capabilities.memoryMb ?? 0,
          gpus: d.capabilities.gpus ?? 0,
          slots: d.capabilities.slots ?? 1,
          ...(d.capabilities.osVersion ? { osVersion: d.capabilities.osVersion } : {}),
          ...(d.capabilities.diskFreeMb ? { diskFreeMb: d.capabilities.diskFreeMb } : {}),
          ...(d.capabilities.gpuInfo?.length
            ? { gpuModels: d.capabilities.gpuInfo.map((g) => `${g.name} (${g.memoryMb} MB)`) }
            : {}),
          ...(d.capabilities.resources && Object.keys(d.capabilities.resources).length
            ? { resources: d.capabilities.resources }
            : {}),
        }),
      ),
    publish: (event) => engine.publish(event),
    logger,
    ...(opts.maxReplanProposals !== undefined ? { maxProposals: opts.maxReplanProposals } : {}),
  });
  planning.start();
  // A restart with a backlog prunes it without waiting for the next planner call.
  plannerRetention.requestPrune();
  const tls = opts.tls ? { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) } : undefined;
  const app = buildHttpApp({
    service,
    admin: service,
    planning,
    authDisabled: opts.authDisabled,
    dashboardDir: opts.dashboardDir ?? defaultDashboardDir(),
    logger,
    artifacts: { hub: artifacts, constellation: (id) => engine.state.constellations.get(id) },
    ...(tls ? { https: tls } : {}),
  });
  await app.listen({ host: opts.host, port: opts.port });
  gateway.attachWebSocket(app.server);
  const port = (app.server.address() as AddressInfo).port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const scheme = tls ? 'https' : 'http';
  const url = `${scheme}://${hostForUrl}:${port}`;
  const aipUrl = `${tls ? 'wss' : 'ws'}://${hostForUrl}:${port}/v1/aip`;
  let grpcUrl: string | undefined;
  if (opts.grpcPort !== undefined) {
    const grpcTls = tls ? { certPem: tls.cert.toString(), keyPem: tls.key.toString() } : undefined;
    let gport: number;
    try {
      gport = await gateway.listenGrpc(opts.host, opts.grpcPort, grpcTls);
    } catch (err) {
      if (!opts.grpcPortImplicit) throw err;
      gport = await gateway.listenGrpc(opts.host, 0, grpcTls);
      logger.warn(
        { wanted: opts.grpcPort, got: gport, err: (err as Error).message },
        'gRPC port taken; using a free one (see server.json)',
      );
    }
    grpcUrl = `${tls ? 'grpcs' : 'grpc'}://${hostForUrl}:${gport}`;
  }

  let adminToken: string | undefined;
  if (!opts.authDisabled && store.listApiTokens().length === 0) {
    adminToken = service.createApiToken({ role: 'admin', name: 'initial admin' }).token;
    writeFileSync(join(dataDir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 });
    logger.warn(
      { file: join(dataDir, 'admin-token') },
      'created the first admin API token (shown once, also saved with mode 0600)',
    );
    process.stderr.write(`\nadmin token: ${adminToken}\n\n`);
  }
  writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ url, aipUrl, grpcUrl, pid: process.pid }, null, 2));
  logger.info(
    { url, aipUrl, grpcUrl, dataDir, auth: !opts.authDisabled },
    `orchestrator listening on ${url} (dashboard at ${url}/)`,
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    aipUrl,
    ...(grpcUrl ? { grpcUrl } : {}),
    logger,
    engine,
    close() {
      closing ??= (async () => {
        await app.close().catch(() => undefined);
        await planning.close();
        plannerRetention.close();
        await gateway.close();
        artifacts.close();
        await engine.close();
        await tracing?.close();
        store.close();
        logger.info('orchestrator stopped; journal flushed');
      })();
      return closing;
    },
  };
}
