// TypeScript shapes of the messages in proto/aip.proto (camelCase, as
// protobufjs names them). 64-bit integers are plain numbers: every one we
// carry (seq, ms timestamps, byte counts) stays far below 2^53.

export interface Capabilities {
  os: string;
  arch: string;
  labels: string[];
  features: string[];
  slots: number;
  cpus: number;
  memoryMb: number;
  gpus: number;
  executors: string[];
  hostname: string;
  /** Filesystem of the agent's data dir; 0 = unknown (older agents send nothing). */
  diskTotalMb?: number;
  diskFreeMb?: number;
  gpuInfo?: GpuInfo[];
  /** User-declared resources (agent config). */
  resources?: Record<string, number>;
  osVersion?: string;
}

export interface GpuInfo {
  name: string;
  memoryMb: number;
  driver: string;
}

export interface TaskReport {
  constellationId: string;
  taskId: string;
  attempt: number;
  state: 'running' | 'finished' | 'interrupted' | string;
}

export interface Hello {
  protocolVersions: number[];
  deviceId: string;
  deviceName: string;
  credential: string;
  capabilities: Capabilities;
  resumeSessionId: string;
  resumeAck: number;
  agentVersion: string;
  running: TaskReport[];
}

export interface Welcome {
  protocolVersion: number;
  sessionId: string;
  deviceId: string;
  resumeAck: number;
  resumed: boolean;
  heartbeatIntervalMs: number;
  leaseMs: number;
  maxFrameBytes: number;
}

export interface Heartbeat {
  running: number;
  freeSlots: number;
  batteryPercent: number;
  thermalCelsius: number;
  loadAvg: number;
  /** Only when changed since last sent; decoded with os '' when absent. */
  capabilities?: Capabilities;
}

export interface ExecutorSpec {
  kind: string;
  command: string;
  env: Record<string, string>;
  cwd: string;
  argsJson: string;
}

export interface OutputSpec {
  name: string;
  source: 'stdout' | 'file' | 'json' | 'status' | 'header' | string;
  path: string;
}

export interface TaskRef {
  constellationId: string;
  taskId: string;
  attempt: number;
}

export interface ArtifactOutputSpec {
  name: string;
  /** File path or glob (one match), relative to the work dir. */
  path: string;
}

export interface ArtifactInput {
  /** Destination, relative to the work dir. */
  path: string;
  /** Lower-case hex sha256. */
  digest: string;
  size: number;
  /** "<task>.<artifact>", for messages. */
  source: string;
}

export interface ArtifactRef {
  name: string;
  digest: string;
  size: number;
}

export interface Assign extends TaskRef {
  leaseMs: number;
  executor: ExecutorSpec;
  inputs: Record<string, string>;
  timeoutMs: number;
  outputs: OutputSpec[];
  /** Version 2 (absent from older senders: read as []). */
  artifactOutputs?: ArtifactOutputSpec[];
  artifactInputs?: ArtifactInput[];
}

export type Accept = TaskRef;

export interface Reject extends TaskRef {
  code: string;
  reason: string;
}

export interface Progress extends TaskRef {
  fraction: number;
  message: string;
}

export type LogStream = 'STDOUT' | 'STDERR' | 'SYSTEM';

export interface LogChunk extends TaskRef {
  stream: LogStream;
  data: Uint8Array;
  offset: number;
}

export type ResultOutcome = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED' | 'INTERRUPTED';

export interface Result extends TaskRef {
  outcome: ResultOutcome;
  exitCode: number;
  signal: string;
  outputs: Record<string, string>;
  error: string;
  startedAtMs: number;
  endedAtMs: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** Version 2: artifacts the orchestrator confirmed stored. */
  artifacts?: ArtifactRef[];
}

export interface Cancel extends TaskRef {
  reason: string;
}

export interface LeaseRenewal extends TaskRef {
  leaseMs: number;
}

export interface Drain {
  reason: string;
}

export interface Goodbye {
  reason: string;
}

export interface ProtocolErrorBody {
  code: string;
  message: string;
  fatal: boolean;
}

export type AckOnly = Record<string, never>;

export interface Enroll {
  token: string;
  deviceName: string;
  capabilities: Capabilities;
}

export interface Enrolled {
  deviceId: string;
  credential: string;
  labels: string[];
}

export interface ArtifactOffer {
  digest: string;
  size: number;
  name: string;
  constellationId: string;
  taskId: string;
  attempt: number;
}

export interface ArtifactRequest {
  digest: string;
  offset: number;
  window: number;
  round: number;
}

export interface ArtifactChunk {
  digest: string;
  offset: number;
  data: Uint8Array;
  chunkSha256: Uint8Array;
  size: number;
  round: number;
}

export interface ArtifactStatus {
  digest: string;
  /** '' = stored; otherwise an ARTIFACT_* code. */
  code: string;
  message: string;
}

/** Every message kind that can ride in an Envelope, keyed by its oneof name. */
export interface BodyMap {
  hello: Hello;
  welcome: Welcome;
  heartbeat: Heartbeat;
  assign: Assign;
  accept: Accept;
  reject: Reject;
  progress: Progress;
  log: LogChunk;
  result: Result;
  cancel: Cancel;
  leaseRenewal: LeaseRenewal;
  drain: Drain;
  goodbye: Goodbye;
  error: ProtocolErrorBody;
  ackOnly: AckOnly;
  enroll: Enroll;
  enrolled: Enrolled;
  taskReport: TaskReport;
  artifactOffer: ArtifactOffer;
  artifactRequest: ArtifactRequest;
  artifactChunk: ArtifactChunk;
  artifactStatus: ArtifactStatus;
}

export type BodyType = keyof BodyMap;

/** A tagged message body: `{ type: 'assign', value: {...} }`. */
export type Body = { [K in BodyType]: { type: K; value: BodyMap[K] } }[BodyType];

export interface Envelope {
  seq: number;
  ack: number;
  sentAtMs: number;
  body: Body;
}

/** Messages that are sequenced and replayed after a reconnect. */
export const RELIABLE_TYPES: ReadonlySet<BodyType> = new Set<BodyType>([
  'assign',
  'accept',
  'reject',
  'progress',
  'log',
  'result',
  'cancel',
  'leaseRenewal',
  'drain',
  'taskReport',
]);

/** Bodies that exist from protocol version 2 on (artifact transfer). */
export const ARTIFACT_TYPES: ReadonlySet<BodyType> = new Set<BodyType>([
  'artifactOffer',
  'artifactRequest',
  'artifactChunk',
  'artifactStatus',
]);

/** The first protocol version with artifact transfer. */
export const ARTIFACTS_VERSION = 2;
export const PROTOCOL_VERSION = 2;
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2];
