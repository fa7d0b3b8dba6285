// Plans and replans with any OpenAI-compatible chat-completions endpoint.
// Every answer is validated exactly like a submission (JSON Schema and the
// normaliser: cycles, dangling needs, references) plus targets against the
// known devices; an invalid answer is sent back with its errors, a bounded
// number of times, then PLANNER_INVALID_OUTPUT carries the last errors.
import { OrreryError } from '../errors.js';
import { GraphError, normaliseGraph } from '../graph/index.js';
import type { EditOperation } from '../model/types.js';
import { ChatClient, type ChatClientOptions, type ChatMessage } from './chat-client.js';
import { targetProblems } from './device-profiles.js';
import { checkEditBatch, operationsFromModel } from './edit-check.js';
import { planSystemPrompt, replanSystemPrompt, replanUserPrompt } from './prompts.js';
import type {
  DeviceProfile,
  PlannerIdentity,
  PlannerTranscript,
  PlanResult,
  ReplanRequest,
  ReplanResult,
} from './types.js';

export interface LlmPlannerOptions extends ChatClientOptions {
  /** Answers asked for in all, including repairs (default 3). */
  maxAttempts?: number;
}

/** Takes the JSON object out of a model answer (tolerates prose, code fences and reasoning blocks). */
export function extractJson(answer: string): unknown {
  // Reasoning models served by Ollama/vLLM may think aloud first; their braces are not the answer.
  const text = answer.replace(/<think>[\s\S]*?<\/think>/g, '');
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text);
  const body = fenced ? fenced[1]! : text;
  const start = body.indexOf('{');
  const end = body.lastIndexOf('}');
  if (start < 0 || end <= start) return undefined;
  try {
    return JSON.parse(body.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

/** Problems with a planned graph document; empty when it would be accepted and every target exists. */
export function graphProblems(doc: unknown, devices: readonly DeviceProfile[]): string[] {
  if (doc === undefined || doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return ['the answer is not a JSON object'];
  }
  try {
    const spec = normaliseGraph(doc);
    return spec.tasks.flatMap((t) => targetProblems(t.target, devices).map((p) => `/tasks/${t.id}/target: ${p}`));
  } catch (err) {
    if (err instanceof GraphError)
      return err.issues.map((i) => `${i.code}${i.path ? ` at ${i.path}` : ''}: ${i.message}`);
    throw err;
  }
}

export class LlmPlanner {
  readonly identity: PlannerIdentity;
  private readonly chat: ChatClient;

  constructor(private readonly opts: LlmPlannerOptions) {
    this.chat = new ChatClient(opts);
    this.identity = { kind: 'llm', model: opts.model };
  }

  async plan(sentence: string, devices: DeviceProfile[], transcript?: PlannerTranscript): Promise<PlanResult> {
    const messages: ChatMessage[] = [
      { role: 'system', content: planSystemPrompt(devices) },
      { role: 'user', content: sentence },
    ];
    const doc = await this.converse<Record<string, unknown>>(messages, transcript, (answer) => {
      const problems = graphProblems(answer, devices);
      return problems.length > 0 ? { problems } : { value: answer as Record<string, unknown> };
    });
    const warnings = devices.length === 0 ? ['no device is connected yet: targets could not be checked'] : [];
    return { graph: doc, planner: this.identity, warnings };
  }

  async replan(req: ReplanRequest, transcript?: PlannerTranscript): Promise<ReplanResult> {
    const messages: ChatMessage[] = [
      { role: 'system', content: replanSystemPrompt(req.devices) },
      { role: 'user', content: replanUserPrompt(req) },
    ];
    return this.converse<ReplanResult>(messages, transcript, (answer) => {
      const a = answer as { comment?: unknown; operations?: unknown } | undefined;
      if (!a || typeof a !== 'object') return { problems: ['the answer is not a JSON object'] };
      const { operations, problems } = operationsFromModel(a.operations ?? []);
      if (problems.length > 0) return { problems };
      const applied: string[] =
        operations.length > 0 ? checkEditBatch(req.state, operations as EditOperation[], req.devices) : [];
      if (applied.length > 0) return { problems: applied };
      const comment = typeof a.comment === 'string' && a.comment ? a.comment : 'proposed by the model';
      return { value: { planner: this.identity, operations, comment } };
    });
  }

  /**
   * Asks, validates, and on problems sends them back for a corrected answer,
   * up to maxAttempts answers in all.
   */
  private async converse<T>(
    messages: ChatMessage[],
    transcript: PlannerTranscript | undefined,
    check: (answer: unknown) => { value: T } | { problems: string[] },
  ): Promise<T> {
    const maxAttempts = Math.max(1, this.opts.maxAttempts ?? 3);
    const answers: string[] = [];
    const record = (): void => {
      if (!transcript) return;
      transcript.prompt = JSON.stringify(messages.slice(0, 2));
      transcript.response = answers.length === 1 ? answers[0]! : JSON.stringify(answers);
    };
    let problems: string[] = [];
    try {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const content = await this.chat.complete(messages);
        answers.push(content);
        const answer = extractJson(content);
        const verdict =
          answer === undefined
            ? { problems: ['the answer is not valid JSON (send one JSON object, no prose)'] }
            : check(answer);
        if ('value' in verdict) return verdict.value;
        problems = verdict.problems;
        messages.push(
          { role: 'assistant', content },
          {
            role: 'user',
            content: `That answer is invalid:\n${problems.map((p) => `- ${p}`).join('\n')}\nAnswer again with the corrected JSON object only.`,
          },
        );
      }
    } finally {
      record();
    }
    throw new OrreryError(
      'PLANNER_INVALID_OUTPUT',
      `The model's answer was still invalid after ${maxAttempts} tries: ${problems.slice(0, 5).join('; ')}`,
      {
        status: 422,
        issues: problems.map((message) => ({ code: 'PLANNER_INVALID_OUTPUT', message })),
        hint: 'Rephrase the request, use a stronger model, or write the graph by hand (docs/graph-format.md).',
      },
    );
  }
}
