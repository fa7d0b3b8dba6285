// What the HTTP API needs from the orchestrator. The engine implements it;
// the API layer only translates HTTP to these calls and errors to problem+json.
import type { Constellation, EditBatch, ExecutorSpec, ReplanPolicy, TaskState } from '../model/types.js';
import type { ConstellationSummary, DeviceView, LiveListener } from './live-events.js';

export type Role = 'admin' | 'operator' | 'viewer';

export interface EditRecordView {
  revision: number;
  author: string;
  comment?: string;
  at: number;
  operations: unknown[];
}

export interface TaskView extends TaskState {
  /** Absent while an upstream may still change what the references resolve to. */
  resolved?: { executor: ExecutorSpec; inputs: Record<string, string> };
}

export interface OrchestratorService {
  submit(
    document: unknown,
    opts: { owner: string; source?: string; format?: 'yaml' | 'json'; inputs?: Record<string, string>; replan?: ReplanPolicy },
  ): Promise<Constellation>;
  list(): ConstellationSummary[];
  summary(id: string): ConstellationSummary;
  get(id: string): Constellation;
  /** One task, with its executor and inputs resolved as an attempt receives them (once its upstreams settled). */
  task(id: string, taskId: string): TaskView;
  edit(id: string, batch: EditBatch, author: string): Promise<Constellation>;
  history(id: string): EditRecordView[];
  cancel(id: string, author: string): Promise<Constellation>;
  pause(id: string, author: string): Promise<Constellation>;
  resume(id: string, author: string): Promise<Constellation>;
  retryTask(id: string, taskId: string, author: string): Promise<Constellation>;
  logs(id: string, taskId: string, attempt?: number): string;
  devices(): DeviceView[];
  drainDevice(id: string): DeviceView;
  revokeDevice(id: string): DeviceView;
  subscribe(listener: LiveListener): () => void;
  health(): { status: 'ok' | 'degraded'; detail?: string };
  metrics(): string;
}

export interface AdminService {
  createEnrollmentToken(opts: { expiresInMs?: number; maxUses?: number; labels?: string[] }): { id: string; token: string };
  listEnrollmentTokens(): unknown[];
  createApiToken(opts: { role: Role; name?: string }): { id: string; token: string };
  verifyApiToken(token: string): Role | undefined;
}
