import type { PlannerConfig } from '../planner/index.js';
import type { PlannerRetentionPolicy } from '../replan/planner-retention.js';
// Settings of one orchestrator process, from flags and environment.
export interface ServerOptions {
  host: string;
  port: number;
  dataDir: string;
  /** Only allowed when host is a loopback address. */
  authDisabled: boolean;
  /** Serve AIP over gRPC too (0 = any free port, undefined = off). */
  grpcPort?: number;
  /** The gRPC port was not asked for: if it is taken, any free port will do. */
  grpcPortImplicit?: boolean;
  tls?: { certFile: string; keyFile: string };
  heartbeatIntervalMs: number;
  /** A device is lost after this many missed heartbeats. */
  missedHeartbeats: number;
  dashboardDir?: string;
  logLevel: string;
  snapshotEveryEvents: number;
  recoveryGraceMs?: number;
  minSnapshotIntervalMs?: number;
  /** The LLM planner's endpoint; absent: the built-in planner (docs/planner.md). */
  planner?: PlannerConfig;
  /** Most replan proposals per constellation (default 5). */
  maxReplanProposals?: number;
  /** Planner audit log retention (defaults in planner-retention.ts: 10,000 calls, 30 days). */
  plannerRetention?: Partial<PlannerRetentionPolicy>;
  /** Largest single artifact accepted (default 1 GiB). */
  artifactMaxBytes?: number;
  /** Unreferenced artifacts are evicted (LRU) while the store is above this (default 20 GiB). */
  artifactStoreMaxBytes?: number;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  host: '127.0.0.1',
  port: 7070,
  dataDir: '.orrery/data',
  authDisabled: false,
  heartbeatIntervalMs: 2000,
  missedHeartbeats: 3,
  logLevel: 'info',
  snapshotEveryEvents: 50_000,
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
