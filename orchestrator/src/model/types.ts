// The constellation model: what a user submits (GraphSpec) and what the
// orchestrator keeps (Constellation). Plain data, JSON-serialisable, so the
// journal, the API and the dashboard all share one shape.

export type DependencyKind = 'success' | 'completion' | 'failure' | 'condition';

/** Where a task may run. All given fields must match (AND). */
export interface TargetSelector {
  /** Pin to one device, by id or name. */
  device?: string;
  labels?: string[];
  os?: string;
  arch?: string;
  /** Features such as gpu, cuda, android, display. */
  capabilities?: string[];
  /** Minimum resources. */
  minMemoryMb?: number;
  minCpus?: number;
  gpus?: number;
}

export type OutputSource =
  | { from: 'stdout' }
  | { from: 'file'; path: string }
  | { from: 'json'; path?: string }
  /** http tasks: the response status, and one response header. */
  | { from: 'status' }
  | { from: 'header'; name: string };

export interface ExecutorSpec {
  kind: 'shell' | string;
  /** shell: the command line. */
  command?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Extra arguments for non-shell executors. */
  args?: Record<string, unknown>;
}

export interface RetryPolicy {
  /** Retries after the first attempt (0 = run once). */
  max: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  multiplier: number;
}

/** One dependency edge (TaskStarLine). */
export interface Dependency {
  from: string;
  to: string;
  kind: DependencyKind;
  /** For kind 'condition': an expression over the upstream's outputs/status. */
  condition?: string;
}

/** A task as submitted, after normalisation. */
export interface TaskSpec {
  id: string;
  name: string;
  description?: string;
  target: TargetSelector;
  executor: ExecutorSpec;
  /** Values may contain ${{ inputs.x }} and ${{ tasks.<id>.outputs.<name> }}. */
  inputs: Record<string, string>;
  outputs: Record<string, OutputSource>;
  /** Files kept as artifacts on success: name -> path or glob in the work dir. */
  artifacts?: Record<string, string>;
  /** Artifacts placed in the work dir before the task starts: destination path -> producer. */
  artifactInputs?: Record<string, ArtifactSource>;
  priority: number;
  timeoutMs?: number;
  retry: RetryPolicy;
}

/** What happens when a task fails for good: nothing, a replan proposal to approve, or an applied replan (docs/planner.md). */
export type ReplanPolicy = 'off' | 'propose' | 'auto';

/** Where an artifact input comes from: tasks.<task>.artifacts.<artifact>. */
export interface ArtifactSource {
  task: string;
  artifact: string;
}

/** A stored artifact of a succeeded attempt (content address). */
export interface ArtifactRecord {
  digest: string;
  size: number;
}

/** A normalised graph, ready to become a constellation. */
export interface GraphSpec {
  name: string;
  description?: string;
  /** Default off. */
  replan?: ReplanPolicy;
  inputs: Record<string, string>;
  tasks: TaskSpec[];
  dependencies: Dependency[];
}

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

export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>([
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'skipped',
]);

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
  /** Why this device was chosen (scheduler's explanation). */
  placement?: string;
  /**
   * What the device reported after this attempt was superseded (e.g. lost in
   * a partition, then finished anyway): recorded, never applied.
   */
  lateOutcome?: string;
}

export interface TaskState {
  spec: TaskSpec;
  status: TaskStatus;
  attempts: Attempt[];
  outputs: Record<string, string>;
  /** Artifacts of the attempt that succeeded, by name (journaled with its result). */
  artifacts?: Record<string, ArtifactRecord>;
  /** Why a ready task is still waiting (e.g. no matching device). */
  waitingReason?: string;
  /** Not before this time (ms) may the next attempt start (retry backoff). */
  notBefore?: number;
  progress?: { fraction: number; message: string };
  /**
   * Attempts before this index do not count against the retry budget
   * (set by a manual retry edit, which grants a fresh budget).
   */
  retryBase?: number;
  /**
   * Why a skipped task was skipped: an edit (skip_task: a decision that
   * reviving upstreams does not undo), a violated dependency, or a false
   * condition.
   */
  skippedBy?: 'edit' | 'dependency' | 'condition';
  /** The upstream whose outcome skipped it (retrying that upstream revives it). */
  skipCause?: string;
}

export interface Constellation {
  id: string;
  name: string;
  description?: string;
  revision: number;
  status: ConstellationStatus;
  owner: string;
  /** Replanning policy (absent: off). */
  replan?: ReplanPolicy;
  inputs: Record<string, string>;
  tasks: Record<string, TaskState>;
  dependencies: Dependency[];
  createdAt: number;
  updatedAt: number;
}

/** One operation of an edit batch. */
export type EditOperation =
  | { op: 'add_task'; task: TaskSpec; needs?: Array<{ from: string; kind?: DependencyKind; condition?: string }> }
  | { op: 'remove_task'; taskId: string }
  | { op: 'update_task'; taskId: string; task: TaskSpec }
  | { op: 'add_dependency'; dependency: Dependency }
  | { op: 'remove_dependency'; from: string; to: string }
  | { op: 'cancel_task'; taskId: string }
  | { op: 'retry_task'; taskId: string }
  | { op: 'skip_task'; taskId: string };

export interface EditBatch {
  /** The revision the editor saw; the batch is rejected if it moved on. */
  revision: number;
  operations: EditOperation[];
  author?: string;
  comment?: string;
}

/** One task status change produced by a transition or an edit. */
export interface TaskChange {
  taskId: string;
  /** null: the task did not exist before (added by an edit). */
  from: TaskStatus | null;
  /** null: the task was removed by an edit. */
  to: TaskStatus | null;
  /** Why, for people (e.g. "upstream build failed", "retry 2 in 4000 ms"). */
  reason?: string;
  /**
   * Set when a live attempt (assigned/running) ended because of this change
   * (cancel): the engine must send a Cancel for it to the device.
   */
  cancelAttempt?: { attempt: number; deviceId: string };
}

/** One accepted edit batch, kept in the constellation's history. */
export interface EditRecord {
  /** The revision the batch produced. */
  revision: number;
  author?: string;
  comment?: string;
  at: number;
  operations: EditOperation[];
  /** A batch that undoes this one, when every touched task had not started. */
  inverse?: EditOperation[];
}
