// Planners: the LLM planner when an endpoint is configured, the built-in
// controlled-language planner otherwise (docs/planner.md).
import { BuiltinPlanner } from './builtin-planner.js';
import { LlmPlanner, type LlmPlannerOptions } from './llm-planner.js';
import type { Planner } from './types.js';

export { BuiltinPlanner, idFromCommand, planFromSentence } from './builtin-planner.js';
export { builtinReplan } from './builtin-replanner.js';
export { ChatClient, retryAfterMs } from './chat-client.js';
export { type Clause, ParseError, parsePlan, parseSentence, type Stage } from './controlled-language.js';
export { describeDevices, profileMatches, targetProblems } from './device-profiles.js';
export { checkEditBatch, editableCopy, operationsFromModel, taskFromRaw } from './edit-check.js';
export { extractJson, graphProblems, LlmPlanner, type LlmPlannerOptions } from './llm-planner.js';
export type * from './types.js';

export type PlannerConfig = LlmPlannerOptions;

/** The LLM planner when a base URL is configured, else the built-in one. */
export function createPlanner(config: PlannerConfig | undefined): Planner {
  return config?.baseUrl ? new LlmPlanner(config) : new BuiltinPlanner();
}

/** Planner settings from the environment (the server's flags override them). */
export function plannerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): PlannerConfig | undefined {
  if (!env.ORRERY_LLM_BASE_URL) return undefined;
  const num = (v: string | undefined): number | undefined => (v && Number.isFinite(Number(v)) ? Number(v) : undefined);
  const timeoutMs = num(env.ORRERY_LLM_TIMEOUT_MS);
  const maxAttempts = num(env.ORRERY_LLM_MAX_ATTEMPTS);
  return {
    baseUrl: env.ORRERY_LLM_BASE_URL,
    model: env.ORRERY_LLM_MODEL ?? 'gpt-4o-mini',
    ...(env.ORRERY_LLM_API_KEY ? { apiKey: env.ORRERY_LLM_API_KEY } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  };
}
export { formatPlanTree } from './plan-tree.js';
