// Plans a task graph from a sentence with any OpenAI-compatible chat
// completions endpoint. The answer must pass the same validation as a
// submitted graph; one repair round feeds the validation errors back.
import type { Logger } from 'pino';
import { OrreryError } from '../errors.js';

export interface LlmPlannerOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  logger?: Logger;
  /** Throws an OrreryError (with issues) when the document is not a valid graph. */
  validate(doc: unknown): void;
  /** Devices online now, so the plan can target them. */
  describeDevices(): string;
}

const SYSTEM_PROMPT = `You turn a request into an Orrery task graph. Answer with ONE JSON object only, no prose.
Format: { "name": string, "inputs"?: {k: string}, "tasks": { "<id>": { "run": "<POSIX shell command>",
"needs"?: ["<id>", ...] | { "<id>": "success" | "completion" | "failure" },
"target"?: { "labels"?: [..], "os"?: "linux"|"android"|"darwin", "capabilities"?: [..], "device"?: "<name>" },
"outputs"?: { "<name>": "stdout" }, "retries"?: number, "timeout"?: "30s" } } }
Task ids match ^[A-Za-z0-9_][A-Za-z0-9_-]*$. Use \${{ tasks.<id>.outputs.<name> }} to pass data from an upstream task
listed in needs. Prefer parallel branches where steps are independent. Keep commands safe and short.`;

interface ChatResponse {
  choices?: Array<{ message?: { content?: string } }>;
}

export class LlmPlanner {
  constructor(private readonly opts: LlmPlannerOptions) {}

  async plan(prompt: string): Promise<{ graph: unknown; source: 'llm' }> {
    const messages = [
      { role: 'system', content: `${SYSTEM_PROMPT}\nDevices online:\n${this.opts.describeDevices()}` },
      { role: 'user', content: prompt },
    ];
    let lastError: OrreryError | undefined;
    for (let round = 0; round < 2; round++) {
      const content = await this.complete(messages);
      const doc = extractJson(content);
      try {
        if (doc === undefined) throw new OrreryError('PLANNER_BAD_ANSWER', 'The model did not answer with a JSON object');
        this.opts.validate(doc);
        return { graph: doc, source: 'llm' };
      } catch (err) {
        lastError = err instanceof OrreryError ? err : new OrreryError('PLANNER_BAD_ANSWER', String(err));
        this.opts.logger?.warn({ code: lastError.code, round }, 'planned graph was invalid; asking the model to repair it');
        messages.push({ role: 'assistant', content }, { role: 'user', content: `That graph is invalid: ${describe(lastError)}. Answer with the corrected JSON only.` });
      }
    }
    throw new OrreryError('PLANNER_INVALID_GRAPH', `The model's graph stayed invalid: ${describe(lastError)}`, {
      status: 422,
      issues: lastError?.issues,
      hint: 'Rephrase the request, or write the graph by hand (docs/graph-format.md).',
    });
  }

  private async complete(messages: Array<{ role: string; content: string }>): Promise<string> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}) },
        body: JSON.stringify({ model: this.opts.model, messages, temperature: 0, response_format: { type: 'json_object' } }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
      });
    } catch (err) {
      throw new OrreryError('PLANNER_UNREACHABLE', `Cannot reach the LLM endpoint ${url}: ${(err as Error).message}`, {
        status: 502,
        hint: 'Check ORRERY_LLM_BASE_URL, or unset it to use the built-in templates.',
      });
    }
    if (!res.ok) {
      throw new OrreryError('PLANNER_UPSTREAM_ERROR', `The LLM endpoint answered HTTP ${res.status}`, {
        status: 502,
        hint: res.status === 401 ? 'Check ORRERY_LLM_API_KEY.' : 'Check ORRERY_LLM_MODEL and the endpoint logs.',
      });
    }
    const body = (await res.json()) as ChatResponse;
    return body.choices?.[0]?.message?.content ?? '';
  }
}

/** Takes the first JSON object out of a model answer (tolerates code fences). */
export function extractJson(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

function describe(err: OrreryError | undefined): string {
  if (!err) return 'unknown error';
  const issues = err.issues.map((i) => `${i.code}${i.path ? ` at ${i.path}` : ''}: ${i.message}`).join('; ');
  return issues ? `${err.message} (${issues})` : err.message;
}
