// Chooses the planner: an LLM endpoint when configured, templates otherwise.
import type { Logger } from 'pino';
import type { Planner } from '../api/service.js';
import { LlmPlanner } from './llm-planner.js';
import { TemplatePlanner } from './template-planner.js';

export { extractJson, LlmPlanner } from './llm-planner.js';
export { splitStages, TemplatePlanner } from './template-planner.js';

export function createPlanner(
  config: { baseUrl: string; model: string; apiKey?: string } | undefined,
  deps: { logger: Logger; validate(doc: unknown): void; describeDevices(): string },
): Planner {
  if (!config) return new TemplatePlanner();
  return new LlmPlanner({ ...config, ...deps });
}
