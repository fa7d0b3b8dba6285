// A minimal OpenAI-compatible chat-completions client: POST
// {baseUrl}/chat/completions with { model, messages }. Nothing
// vendor-specific, so hosted APIs, Ollama and vLLM all work. Adds a
// per-request timeout, honours 429 Retry-After (bounded), retries 5xx and
// network errors with backoff, and drops response_format once if the
// server refuses it.
import { OrreryError } from '../errors.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatClientOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Per request (default 60 s). */
  timeoutMs?: number;
  /** Retries after a 429, a 5xx or a network error (default 3). */
  maxRetries?: number;
  /** First backoff after a 5xx or network error, doubled each time (default 500 ms). */
  backoffMs?: number;
  /** Longest Retry-After honoured; longer waits give up at once (default 30 s). */
  maxRetryAfterMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Retry-After as delta-seconds or an HTTP date, in ms (undefined when absent or unreadable). */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class ChatClient {
  /** Turned off for good once the server refused response_format. */
  private jsonMode = true;

  constructor(private readonly opts: ChatClientOptions) {}

  get model(): string {
    return this.opts.model;
  }

  private get url(): string {
    return `${this.opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  }

  /** One completion's text. Throws OrreryError PLANNER_TIMEOUT / PLANNER_UNAVAILABLE / PLANNER_REJECTED. */
  async complete(messages: ChatMessage[]): Promise<string> {
    const maxRetries = this.opts.maxRetries ?? 3;
    let backoff = this.opts.backoffMs ?? 500;
    let lastProblem = '';
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.once(messages);
      if (outcome.ok) return outcome.text;
      lastProblem = outcome.problem;
      if (outcome.refusedJsonMode && this.jsonMode) {
        // The server does not know response_format (older vLLM/Ollama builds): ask again without it.
        this.jsonMode = false;
        attempt--;
        continue;
      }
      if (!outcome.retry || attempt >= maxRetries) break;
      let wait = backoff * (0.75 + Math.random() / 2);
      if (outcome.retryAfterMs !== undefined) {
        const cap = this.opts.maxRetryAfterMs ?? 30_000;
        if (outcome.retryAfterMs > cap) {
          lastProblem += ` (Retry-After ${Math.round(outcome.retryAfterMs / 1000)} s is longer than the ${Math.round(cap / 1000)} s we wait)`;
          break;
        }
        wait = outcome.retryAfterMs;
      } else backoff *= 2;
      await sleep(wait);
    }
    throw new OrreryError('PLANNER_UNAVAILABLE', `The LLM endpoint ${this.url} is unavailable: ${lastProblem}`, {
      status: 503,
      hint: 'Try again later, check the endpoint (ORRERY_LLM_BASE_URL), or unset it to use the built-in planner.',
    });
  }

  private async once(
    messages: ChatMessage[],
  ): Promise<
    | { ok: true; text: string }
    | { ok: false; problem: string; retry: boolean; retryAfterMs?: number; refusedJsonMode?: boolean }
  > {
    const timeoutMs = this.opts.timeoutMs ?? 60_000;
    const body = {
      model: this.opts.model,
      messages,
      temperature: 0,
      ...(this.jsonMode ? { response_format: { type: 'json_object' } } : {}),
    };
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new OrreryError('PLANNER_TIMEOUT', `The LLM endpoint did not answer within ${timeoutMs} ms`, {
          status: 504,
          hint: 'Raise ORRERY_LLM_TIMEOUT_MS (--llm-timeout-ms) for slow local models, or try a smaller model.',
        });
      }
      return {
        ok: false,
        problem: `cannot connect (${(e as { cause?: Error }).cause?.message ?? e.message})`,
        retry: true,
      };
    }
    if (res.status === 429)
      return {
        ok: false,
        problem: 'rate limited (HTTP 429)',
        retry: true,
        retryAfterMs: retryAfterMs(res.headers.get('retry-after')) ?? 1000,
      };
    if (res.status >= 500)
      return { ok: false, problem: `HTTP ${res.status} ${text.slice(0, 200)}`.trim(), retry: true };
    if (!res.ok) {
      // Servers word this refusal differently (or not at all): any 400/422 in json mode gets one try without it.
      if (this.jsonMode && (res.status === 400 || res.status === 422)) {
        return { ok: false, problem: `HTTP ${res.status}`, retry: false, refusedJsonMode: true };
      }
      throw new OrreryError(
        'PLANNER_REJECTED',
        `The LLM endpoint refused the request: HTTP ${res.status} ${text.slice(0, 300)}`.trim(),
        {
          status: 502,
          hint:
            res.status === 401 || res.status === 403
              ? 'Check the API key (ORRERY_LLM_API_KEY / --llm-api-key).'
              : 'Check the model name (ORRERY_LLM_MODEL / --llm-model) and the base URL (it should end in /v1).',
        },
      );
    }
    try {
      const parsed = JSON.parse(text) as { choices?: Array<{ message?: { content?: string | null } }> };
      return { ok: true, text: parsed.choices?.[0]?.message?.content ?? '' };
    } catch {
      return { ok: false, problem: 'the answer was not chat-completions JSON', retry: true };
    }
  }
}
