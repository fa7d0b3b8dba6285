// The JSON shapes the dashboard reads from the orchestrator's HTTP API
// (docs/http-api.md). Kept here on purpose instead of importing
// orchestrator/src: the dashboard depends on the public API only, so it
// describes just the fields it reads.

export type DependencyKind = 'success' | 'completion' | 'failure' | 'condition';

export type ConstellationStatus = 'draft' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

export type TaskStatus =
  | 'pending'
  | 'ready'
  | 'assigned'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'timed_out'
  | 'cancelled'
  | 'skipped';

export const TASK_STATUSES: readonly TaskStatus[] = [
  'pending',
  'ready',
  'assigned',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
];

export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>([
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
]);

export const TERMINAL_CONSTELLATION_STATUSES: ReadonlySet<ConstellationStatus> = new Set<ConstellationStatus>([
  'succeeded',
  'failed',
  'cancelled',
]);

export interface TargetSelector {
  device?: string;
  labels?: string[];
  os?: string;
  arch?: string;
  capabilities?: string[];
  minMemoryMb?: number;
  minCpus?: number;
  gpus?: number;
}

export interface ExecutorSpec {
  kind: string;
  command?: string;
  env?: Record<string, string>;
  cwd?: string;
  args?: Record<string, unknown>;
}

export interface RetryPolicy {
  max: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

export interface Dependency {
  from: string;
  to: string;
  kind: DependencyKind;
  condition?: string;
}

export interface TaskSpec {
  id: string;
  name: string;
  description?: string;
  target: TargetSelector;
  executor: ExecutorSpec;
  inputs: Record<string, string>;
  outputs: Record<string, unknown>;
  /** Files the task produces: name -> path or glob in its work dir. */
  artifacts?: Record<string, string>;
  /** Files placed in its work dir before it starts: destination path -> producer. */
  artifactInputs?: Record<string, ArtifactSource>;
  priority: number;
  timeoutMs?: number;
  retry: RetryPolicy;
}

export interface ArtifactSource {
  task: string;
  artifact: string;
}

/** A stored, content-addressed blob (digest = sha256 hex). */
export interface ArtifactRecord {
  digest: string;
  size: number;
}

/** One item of GET /v1/constellations/:id/artifacts. */
export interface ArtifactListItem extends ArtifactRecord {
  task: string;
  name: string;
  attempt?: number;
}

export type AttemptOutcome = 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'interrupted' | 'lost';

export interface Attempt {
  number: number;
  deviceId: string;
  assignedAt: number;
  startedAt?: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  exitCode?: number;
  error?: string;
  placement?: string;
}

export interface TaskProgress {
  fraction: number;
  message: string;
}

export interface TaskState {
  spec: TaskSpec;
  status: TaskStatus;
  attempts: Attempt[];
  outputs: Record<string, string>;
  /** Stored artifacts of the attempt that succeeded. */
  artifacts?: Record<string, ArtifactRecord>;
  waitingReason?: string;
  notBefore?: number;
  progress?: TaskProgress;
}

export interface Constellation {
  id: string;
  name: string;
  description?: string;
  revision: number;
  status: ConstellationStatus;
  owner: string;
  inputs: Record<string, string>;
  tasks: Record<string, TaskState>;
  dependencies: Dependency[];
  createdAt: number;
  updatedAt: number;
}

export type StatusCounts = Partial<Record<TaskStatus, number>>;

export interface ConstellationSummary {
  id: string;
  name: string;
  status: ConstellationStatus;
  revision: number;
  owner: string;
  createdAt: number;
  updatedAt: number;
  counts: StatusCounts;
}

export type DeviceStatus = 'online' | 'draining' | 'lost' | 'offline';

export interface DeviceView {
  id: string;
  name: string;
  status: DeviceStatus;
  labels: string[];
  os: string;
  arch: string;
  features: string[];
  slots: number;
  running: number;
  lastHeartbeatAt?: number | null;
  connectedAt?: number | null;
  /** How the agent is connected: ws or grpc. */
  transport?: string;
  load?: {
    batteryPercent?: number | null;
    thermalCelsius?: number | null;
    loadAvg?: number | number[] | null;
    [field: string]: unknown;
  };
  /** Everything the agent probed: cpus, memoryMb, gpus, executors, hostname, and fields newer agents add. */
  capabilities?: Record<string, unknown>;
  /** The attempts placed on this device now. */
  runningTasks?: Array<{ constellationId: string; taskId: string; attempt: number }>;
}

export type Role = 'viewer' | 'operator' | 'admin';

/** GET /v1/whoami. */
export interface WhoAmI {
  role: Role;
  principal?: string;
  authRequired: boolean;
}

/** GET /v1/constellations/:id/tasks/:task: the task plus what its references resolve to. */
export interface TaskDetail extends TaskState {
  resolved?: { executor: ExecutorSpec; inputs: Record<string, string> };
}

export type EditOperation =
  | { op: 'add_task'; task: TaskSpec; needs?: Array<{ from: string; kind?: DependencyKind; condition?: string }> }
  | { op: 'add_dependency'; dependency: Dependency }
  | { op: 'cancel_task'; taskId: string }
  | { op: 'retry_task'; taskId: string }
  | { op: 'skip_task'; taskId: string }
  // Other operations (add/remove/update task or dependency) pass through as the server wrote them (undo).
  | { op: string; [field: string]: unknown };

/** One accepted edit batch, from GET /v1/constellations/:id/history. */
export interface EditRecord {
  revision: number;
  author?: string;
  comment?: string;
  at: number;
  operations: Array<{ op: string; [field: string]: unknown }>;
  /** The batch that undoes this one, present while every touched task has not started. */
  inverse?: Array<{ op: string; [field: string]: unknown }>;
}

export interface EditBatch {
  revision: number;
  operations: EditOperation[];
  author?: string;
  comment?: string;
}

/** One entry of a problem+json `errors` array. */
export interface ProblemItem {
  code?: string;
  path?: string;
  line?: number;
  column?: number;
  message?: string;
}

export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  code?: string;
  detail?: string;
  /** What to do about it (Orrery's problems carry one where it helps). */
  hint?: string;
  errors?: ProblemItem[];
}

// Server-Sent Event payloads (GET /v1/events).

export interface TaskEvent {
  constellationId: string;
  taskId: string;
  status: TaskStatus;
  attempts: Attempt[];
  outputs: Record<string, string>;
  artifacts?: Record<string, ArtifactRecord>;
  waitingReason?: string;
  progress?: TaskProgress;
}

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogEvent {
  constellationId: string;
  taskId: string;
  attempt: number;
  stream: LogStream;
  text: string;
}

export interface EditEvent {
  constellationId: string;
  revision: number;
}

export type ProposalStatus = 'pending' | 'applied' | 'rejected' | 'stale' | 'failed';

/** A replan proposal (docs/planner.md): an edit batch the planner proposes. */
export interface Proposal {
  id: string;
  constellationId: string;
  createdAt: number;
  revision: number;
  taskId?: string;
  trigger: 'failure' | 'request';
  planner: string;
  model?: string;
  comment: string;
  operations: Array<{ op: string; taskId?: string; task?: unknown; [field: string]: unknown }>;
  status: ProposalStatus;
  decidedAt?: number;
  decidedBy?: string;
  error?: string;
  appliedRevision?: number;
}

/** SSE `proposal`: a proposal was created or decided. */
export interface ProposalEvent {
  constellationId: string;
  id: string;
  status: ProposalStatus;
  comment: string;
}

export interface PlanResult {
  graph: unknown;
  source: 'llm' | 'template' | string;
  /** Which planner produced it (newer servers). */
  planner?: { kind: 'llm' | 'builtin' | string; model?: string; [field: string]: unknown };
  /** Things the planner assumed (newer servers), e.g. a name taken as a label. */
  warnings?: string[];
}
