// A small typed client for the orchestrator's HTTP API, used by the CLI.
import type { ConstellationSummary, DeviceView, LiveEvent } from '../api/live-events.js';
import type { Constellation, EditBatch } from '../model/types.js';

export interface ProblemLike {
  code: string;
  title: string;
  status: number;
  detail?: string;
  hint?: string;
  errors?: Array<{ code: string; message: string; path?: string; line?: number; column?: number }>;
}

export class ApiError extends Error {
  constructor(readonly problem: ProblemLike) {
    super(problem.title);
    this.name = 'ApiError';
  }
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  async request<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: this.headers({ ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extraHeaders }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError({
        code: 'SERVER_UNREACHABLE',
        status: 0,
        title: `Cannot reach the orchestrator at ${this.baseUrl}`,
        hint: 'Start it with `orrery server`, or point --server / ORRERY_SERVER at it.',
        detail: (err as Error).cause ? String((err as Error & { cause: unknown }).cause) : String(err),
      });
    }
    const text = await res.text();
    if (!res.ok) {
      let problem: ProblemLike;
      try {
        problem = JSON.parse(text) as ProblemLike;
      } catch {
        problem = { code: 'HTTP_ERROR', status: res.status, title: text || res.statusText };
      }
      throw new ApiError(problem);
    }
    const type = res.headers.get('content-type') ?? '';
    return (type.includes('json') ? JSON.parse(text) : text) as T;
  }

  /** A raw GET (for streamed downloads); problems become ApiError like request() does. */
  async download(path: string): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { headers: this.headers() });
    } catch (err) {
      throw new ApiError({ code: 'SERVER_UNREACHABLE', status: 0, title: `Cannot reach the orchestrator at ${this.baseUrl}`, detail: String(err) });
    }
    if (!res.ok) {
      const text = await res.text();
      let problem: ProblemLike;
      try {
        problem = JSON.parse(text) as ProblemLike;
      } catch {
        problem = { code: 'HTTP_ERROR', status: res.status, title: text || res.statusText };
      }
      throw new ApiError(problem);
    }
    return res;
  }

  submit(doc: unknown): Promise<Constellation> {
    return this.request('POST', '/v1/constellations', doc);
  }

  /** Submits and gets only the summary back (a big graph's full answer is tens of MB). */
  submitMinimal(doc: unknown): Promise<ConstellationSummary> {
    return this.request('POST', '/v1/constellations', doc, { prefer: 'return=minimal' });
  }
  get(id: string): Promise<Constellation> {
    return this.request('GET', `/v1/constellations/${encodeURIComponent(id)}`);
  }
  async list(): Promise<ConstellationSummary[]> {
    return (await this.request<{ items: ConstellationSummary[] }>('GET', '/v1/constellations')).items;
  }
  edit(id: string, batch: EditBatch): Promise<Constellation> {
    return this.request('POST', `/v1/constellations/${encodeURIComponent(id)}/edits`, batch);
  }
  action(id: string, action: 'cancel' | 'pause' | 'resume'): Promise<Constellation> {
    return this.request('POST', `/v1/constellations/${encodeURIComponent(id)}/${action}`, {});
  }
  retry(id: string, task: string): Promise<Constellation> {
    return this.request('POST', `/v1/constellations/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/retry`, {});
  }
  logs(id: string, task: string, attempt?: number): Promise<string> {
    const q = attempt === undefined ? '' : `?attempt=${attempt}`;
    return this.request('GET', `/v1/constellations/${encodeURIComponent(id)}/tasks/${encodeURIComponent(task)}/logs${q}`);
  }
  async devices(): Promise<DeviceView[]> {
    return (await this.request<{ items: DeviceView[] }>('GET', '/v1/devices')).items;
  }
  deviceAction(id: string, action: 'drain' | 'revoke'): Promise<DeviceView> {
    return this.request('POST', `/v1/devices/${encodeURIComponent(id)}/${action}`, {});
  }

  /** Streams live events until the signal aborts. Reconnects on drops. */
  async *events(constellationId: string | undefined, signal: AbortSignal): AsyncGenerator<LiveEvent> {
    const q = constellationId ? `?constellation=${encodeURIComponent(constellationId)}` : '';
    while (!signal.aborted) {
      let res: Response;
      try {
        res = await fetch(new URL(`/v1/events${q}`, this.baseUrl), { headers: this.headers(), signal });
      } catch {
        if (signal.aborted) return;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!res.ok || !res.body) throw new ApiError({ code: 'HTTP_ERROR', status: res.status, title: `events stream: HTTP ${res.status}` });
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let sep = buffer.indexOf('\n\n');
          while (sep >= 0) {
            const frame = buffer.slice(0, sep);
            buffer = buffer.slice(sep + 2);
            const event = parseSseFrame(frame);
            if (event) yield event;
            sep = buffer.indexOf('\n\n');
          }
        }
      } catch {
        if (signal.aborted) return;
      }
    }
  }
}

function parseSseFrame(frame: string): LiveEvent | undefined {
  let type = '';
  let data = '';
  for (const line of frame.split('\n')) {
    if (line.startsWith('event: ')) type = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (!type || !data) return undefined;
  return { type, data: JSON.parse(data) } as LiveEvent;
}
