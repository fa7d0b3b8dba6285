// A thin fetch wrapper for /v1: adds the bearer token, parses JSON and turns
// every non-2xx answer into an ApiError built from the problem+json body.

import { ApiError, parseProblem } from './api-error.js';
import { getToken, markAuthRequired } from './token-store.js';
import type {
  ArtifactListItem,
  Constellation,
  ConstellationSummary,
  DeviceView,
  EditBatch,
  EditRecord,
  PlanResult,
  Proposal,
  TaskDetail,
  WhoAmI,
} from './types.js';

export const API_BASE = '/v1';

async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, {
      title: 'Network error',
      detail: err instanceof Error ? err.message : String(err),
    });
  }
  if (res.status === 401) markAuthRequired();
  if (!res.ok) throw new ApiError(res.status, parseProblem(res.status, await res.text()));
  return res;
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  return (await res.json()) as T;
}

const enc = encodeURIComponent;

export const api = {
  listConstellations: () => json<{ items: ConstellationSummary[] }>('GET', '/constellations'),
  getConstellation: (id: string) => json<Constellation>('GET', `/constellations/${enc(id)}`),
  submit: (source: string, format: 'yaml' | 'json') =>
    json<Constellation>('POST', '/constellations', { source, format }),
  edit: (id: string, batch: EditBatch) => json<Constellation>('POST', `/constellations/${enc(id)}/edits`, batch),
  control: (id: string, action: 'cancel' | 'pause' | 'resume') =>
    json<Constellation>('POST', `/constellations/${enc(id)}/${action}`),
  history: (id: string) => json<{ items: EditRecord[] }>('GET', `/constellations/${enc(id)}/history`),
  retryTask: (id: string, taskId: string) =>
    json<Constellation>('POST', `/constellations/${enc(id)}/tasks/${enc(taskId)}/retry`),
  task: (id: string, taskId: string) => json<TaskDetail>('GET', `/constellations/${enc(id)}/tasks/${enc(taskId)}`),
  whoami: () => json<WhoAmI>('GET', '/whoami'),
  taskLogs: async (id: string, taskId: string, attempt?: number): Promise<string> => {
    const q = attempt === undefined ? '' : `?attempt=${attempt}`;
    const res = await request('GET', `/constellations/${enc(id)}/tasks/${enc(taskId)}/logs${q}`);
    return res.text();
  },
  artifacts: (id: string, taskId: string) =>
    json<{ items: ArtifactListItem[] }>('GET', `/constellations/${enc(id)}/artifacts?task=${enc(taskId)}`),
  /** The blob's bytes; the route needs the bearer token, so a plain link cannot fetch it. */
  artifactBlob: async (digest: string): Promise<Blob> => {
    const res = await request('GET', `/artifacts/${enc(digest)}`);
    return res.blob();
  },
  listDevices: () => json<{ items: DeviceView[] }>('GET', '/devices'),
  drainDevice: (id: string) => json<DeviceView>('POST', `/devices/${enc(id)}/drain`),
  plan: (prompt: string) => json<PlanResult>('POST', '/plan', { prompt }),
  proposals: (id: string) => json<{ items: Proposal[] }>('GET', `/constellations/${enc(id)}/proposals`),
  approveProposal: (id: string) => json<Proposal>('POST', `/proposals/${enc(id)}/approve`),
  rejectProposal: (id: string) => json<Proposal>('POST', `/proposals/${enc(id)}/reject`),
};

/** URL of the SSE stream; EventSource cannot send headers, so the token rides in the query. */
export function eventsUrl(): string {
  const token = getToken();
  return token ? `${API_BASE}/events?access_token=${enc(token)}` : `${API_BASE}/events`;
}
