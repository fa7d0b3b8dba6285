// Shapes shared by the planners (built-in and LLM), the replanner and the API.
import type { EditOperation } from '../model/types.js';

/** What a planner knows about one connected device (from its AIP capabilities). */
export interface DeviceProfile {
  id: string;
  name: string;
  status: 'online' | 'draining' | 'lost' | 'offline';
  labels: string[];
  os: string;
  arch: string;
  features: string[];
  executors: string[];
  cpus: number;
  memoryMb: number;
  gpus: number;
  slots: number;
  osVersion?: string;
  diskFreeMb?: number;
  /** GPU models, e.g. "NVIDIA Orin (32768 MB)". */
  gpuModels?: string[];
  /** User-declared resources from the agent's config. */
  resources?: Record<string, number>;
}

export type PlannerKind = 'llm' | 'builtin';

export interface PlannerIdentity {
  kind: PlannerKind;
  /** The model, for the LLM planner. */
  model?: string;
}

export interface PlanResult {
  /** A graph document in the user format (docs/graph-format.md). */
  graph: Record<string, unknown>;
  planner: PlannerIdentity;
  warnings: string[];
}

/** One recorded exchange with a planner, for the audit log. */
export interface PlannerTranscript {
  /** What the planner was given (the chat messages, or the sentence for the built-in planner). */
  prompt: string;
  /** What it answered (all rounds, for the LLM). */
  response: string;
}

/** What the replanner is told about a task that failed for good (or a request to replan). */
export interface ReplanRequest {
  constellationId: string;
  revision: number;
  /** The whole constellation as the API shows it. */
  state: import('../model/types.js').Constellation;
  /** The failed task, when replanning was triggered by a failure. */
  failure?: {
    taskId: string;
    status: string;
    error?: string;
    exitCode?: number;
    deviceId?: string;
    logTail: string;
  };
  hint?: string;
  devices: DeviceProfile[];
}

export interface ReplanResult {
  planner: PlannerIdentity;
  /** Empty when the planner found nothing sensible to change. */
  operations: EditOperation[];
  /** Why, for people. */
  comment: string;
}

export interface Planner {
  readonly identity: PlannerIdentity;
  plan(sentence: string, devices: DeviceProfile[], transcript?: PlannerTranscript): Promise<PlanResult>;
  replan(request: ReplanRequest, transcript?: PlannerTranscript): Promise<ReplanResult>;
}
