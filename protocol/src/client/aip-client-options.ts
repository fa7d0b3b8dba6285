// Options of AipClient: the contract's AipClientOptions plus knobs the
// contract leaves out (kept apart from the behaviour in aip-client.ts).
import type { AipClientOptions } from '../contracts.js';
import type { AipLogger } from '../logger.js';
import type { TaskReport } from '../messages.js';

export interface AipClientConfig extends AipClientOptions {
  logger?: AipLogger;
  /** Versions offered in Hello (default SUPPORTED_PROTOCOL_VERSIONS). */
  protocolVersions?: number[];
  /** Tasks the agent runs or holds results for, reported in every Hello. */
  taskReports?: () => TaskReport[];
  /** Dial + Welcome must complete within this (default 10 s). */
  connectTimeoutMs?: number;
  /** Frame limit before the Welcome states the orchestrator's (default 4 MiB). */
  maxFrameBytes?: number;
  /** The orchestrator is presumed gone after this many silent heartbeat intervals (default 3). */
  missedHeartbeats?: number;
  ackDelayMs?: number;
}
