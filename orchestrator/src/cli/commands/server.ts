// `orrery server`: run the orchestrator in the foreground.
import type { Command } from 'commander';
import { DEFAULT_SERVER_OPTIONS } from '../../server/server-options.js';

const int = (v: string): number => {
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < 0) throw new Error(`expected a non-negative integer, got ${v}`);
  return n;
};

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('Run the orchestrator: HTTP API, dashboard and AIP endpoint for agents')
    .option('--host <host>', 'address to listen on', DEFAULT_SERVER_OPTIONS.host)
    .option('-p, --port <port>', 'HTTP/WebSocket port (0 = any free port)', int, DEFAULT_SERVER_OPTIONS.port)
    .option('-d, --data-dir <dir>', 'where the journal (SQLite) and state live', DEFAULT_SERVER_OPTIONS.dataDir)
    .option('--no-auth', 'disable API and agent authentication (loopback only, for local development)')
    .option('--grpc-port <port>', 'serve AIP over gRPC on this port too (default: HTTP port + 1; 0 = any free port)', int)
    .option('--no-grpc', 'serve AIP over WebSocket only')
    .option('--tls-cert <file>', 'PEM certificate: serve https/wss and grpcs')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .option('--heartbeat-ms <ms>', 'agent heartbeat interval; a device is lost after 3 missed', int, DEFAULT_SERVER_OPTIONS.heartbeatIntervalMs)
    .option('--dashboard-dir <dir>', 'serve the dashboard from this folder (default: the built dashboard)')
    .option('--snapshot-every <events>', 'write a state snapshot after this many journal events', int, DEFAULT_SERVER_OPTIONS.snapshotEveryEvents)
    .option('--snapshot-min-interval-ms <ms>', 'never snapshot more often than this (a snapshot pauses the engine)', int, 5000)
    .option('--recovery-grace-ms <ms>', 'after a restart, how long devices holding work get to reconnect before it is rerun', int, 15_000)
    .option('--llm-base-url <url>', 'OpenAI-compatible endpoint for the planner, e.g. http://127.0.0.1:11434/v1 (env ORRERY_LLM_BASE_URL; default: built-in planner)')
    .option('--llm-model <model>', 'model name for the planner (env ORRERY_LLM_MODEL)')
    .option('--llm-api-key <key>', 'API key for the planner endpoint (env ORRERY_LLM_API_KEY; prefer the env)')
    .option('--llm-timeout-ms <ms>', 'per-request timeout for the planner endpoint (env ORRERY_LLM_TIMEOUT_MS, default 60000)', int)
    .option('--replan-max <n>', 'most replan proposals per constellation (default 5)', int)
    .option('--planner-calls-keep <n>', 'keep the newest n planner audit calls (default 10000; 0 = no count limit)', int)
    .option('--planner-calls-max-age-days <days>', 'drop planner audit calls older than this (default 30; 0 = no age limit)', int)
    .option('--log-level <level>', 'trace, debug, info, warn, error', DEFAULT_SERVER_OPTIONS.logLevel)
    .option('--artifact-max-bytes <bytes>', 'largest single artifact an agent may upload (default 1 GiB)', int)
    .option('--artifact-store-max-bytes <bytes>', 'evict unreferenced artifacts (LRU) above this total (default 20 GiB)', int)
    .action(async (opts) => {
      // Loaded on demand so client commands start fast.
      const { startServer } = await import('../../server/start.js');
      const { plannerConfigFromEnv } = await import('../../planner/index.js');
      const running = await startServer({
        ...DEFAULT_SERVER_OPTIONS,
        host: opts.host,
        port: opts.port,
        dataDir: opts.dataDir,
        authDisabled: opts.auth === false,
        // Both transports by default: gRPC beside HTTP (port + 1), or anywhere when the port is chosen by the OS.
        grpcPort: opts.grpc === false ? undefined : (opts.grpcPort ?? (opts.port === 0 ? 0 : opts.port + 1)),
        grpcPortImplicit: opts.grpc !== false && opts.grpcPort === undefined,
        tls: opts.tlsCert && opts.tlsKey ? { certFile: opts.tlsCert, keyFile: opts.tlsKey } : undefined,
        heartbeatIntervalMs: opts.heartbeatMs,
        dashboardDir: opts.dashboardDir,
        logLevel: opts.logLevel,
        snapshotEveryEvents: opts.snapshotEvery,
        minSnapshotIntervalMs: opts.snapshotMinIntervalMs,
        recoveryGraceMs: opts.recoveryGraceMs,
        ...(opts.artifactMaxBytes !== undefined ? { artifactMaxBytes: opts.artifactMaxBytes } : {}),
        ...(opts.artifactStoreMaxBytes !== undefined ? { artifactStoreMaxBytes: opts.artifactStoreMaxBytes } : {}),
        planner: plannerConfigFromEnv({
          ...process.env,
          ...(opts.llmBaseUrl ? { ORRERY_LLM_BASE_URL: opts.llmBaseUrl } : {}),
          ...(opts.llmModel ? { ORRERY_LLM_MODEL: opts.llmModel } : {}),
          ...(opts.llmApiKey ? { ORRERY_LLM_API_KEY: opts.llmApiKey } : {}),
          ...(opts.llmTimeoutMs !== undefined ? { ORRERY_LLM_TIMEOUT_MS: String(opts.llmTimeoutMs) } : {}),
        }),
        maxReplanProposals: opts.replanMax,
        plannerRetention: {
          ...(opts.plannerCallsKeep !== undefined ? { maxCalls: opts.plannerCallsKeep } : {}),
          ...(opts.plannerCallsMaxAgeDays !== undefined ? { maxAgeMs: opts.plannerCallsMaxAgeDays * 86_400_000 } : {}),
        },
      });
      const stop = (signal: string): void => {
        running.logger.info({ signal }, 'shutting down: no new work, flushing the journal');
        void running.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
