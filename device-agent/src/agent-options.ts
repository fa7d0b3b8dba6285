// Options of DeviceAgent, apart from its behaviour (agent.ts).
import type { AipClientConfig, AipClientSession, Enroll, Enrolled } from '@orrery/protocol/client';
import type { Logger } from 'pino';
import type { ShellExecutorOptions } from './executors/shell.js';
import type { AllowSettings } from './safety/policy.js';
import type { RunAsSetting } from './safety/run-as.js';
import type { CapabilityMonitorOptions } from './capability-monitor.js';
import type { AgentArtifactOptions } from './artifacts/agent-artifacts.js';

export type CreateSession = (config: AipClientConfig) => AipClientSession;
export type EnrollFn = (req: { url: string; enroll: Enroll; caPem?: string }) => Promise<Enrolled>;

export interface DeviceAgentOptions {
  /** ws://, wss://, grpc:// or grpcs:// address of the orchestrator. */
  serverUrl: string;
  /** Device name shown in the orchestrator; default: hostname. */
  name?: string;
  labels?: string[];
  /** Where the outbox, the attempt journal, work dirs and credentials live. */
  dataDir: string;
  /** Concurrent tasks; default = CPUs. */
  slots?: number;
  /** User-declared resources (agent config), sent with the capabilities. */
  resources?: Record<string, number>;
  /** Capability probe: re-probe intervals, and the host it looks at (tests: a fake sysfs tree). */
  probe?: Pick<CapabilityMonitorOptions, 'intervalMs' | 'commandIntervalMs' | 'host'>;
  /** Override the stored identity (otherwise read from <dataDir>/credentials.json). */
  deviceId?: string;
  credential?: string;
  /** One-time enrollment token, used when no credential is stored. */
  enrollToken?: string;
  /** PEM CA for wss:// / grpcs://. */
  caPem?: string;
  logger?: Logger;
  /** Session factory; default: the protocol package's AipClient. */
  createSession?: CreateSession;
  /** Enrollment call; default: the protocol package's enrollDevice. */
  enroll?: EnrollFn;
  /** Limits of every executor: output forwarded (maxForwardBytes) and kept for outputs (maxCaptureBytes), kill grace. */
  executor?: Omit<ShellExecutorOptions, 'workRoot' | 'runAs' | 'allow'>;
  /** Which executors run and which commands, hosts, servers they may use (see safety/policy.ts). Default: all. */
  allow?: AllowSettings;
  /** Run tasks (shell commands, MCP servers) as this account; the agent must be root. */
  runAs?: RunAsSetting;
  /**
   * Root of the per-attempt work dirs. Default <dataDir>/work, or with runAs a
   * directory under the system temp dir that the task's account can enter.
   */
  workDir?: string;
  /** The adb binary; default `adb` on PATH (without one, the adb executor is not offered). */
  adbPath?: string;
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How long stop() waits for the orchestrator to ack the outbox. Default 5 s. */
  flushTimeoutMs?: number;
  /** Recently finished attempts remembered to answer duplicate Assigns. Default 1024. */
  rememberFinished?: number;
  agentVersion?: string;
  /**
   * Kill running tasks once the orchestrator has been out of reach this long
   * (ms, counted from the last contact), and report them INTERRUPTED after
   * reconnecting. Set below the orchestrator's lost-device time (3 heartbeat
   * intervals) for at-most-once side effects under partitions. Default: off
   * (tasks keep running while disconnected).
   */
  stopAfterDisconnectMs?: number;
  /** Told on every Welcome and disconnect (the CLI records it for `orrery-agent status`). */
  onConnection?: (state: { connected: boolean; deviceId?: string; sessionId?: string; reason?: string }) => void;
  /** Artifact size limits and cache cap (cache under dataDir/artifacts). */
  artifacts?: AgentArtifactOptions;
}

export interface StopOptions {
  /** true: take no new work and let running tasks finish; false: kill them. */
  drain?: boolean;
  /** With drain: kill what still runs after this long. Default: wait forever. */
  drainTimeoutMs?: number;
  reason?: string;
}
