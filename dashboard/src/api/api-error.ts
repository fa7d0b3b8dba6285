import type { Problem, ProblemItem } from './types.js';

/** A failed API call, carrying the server's problem+json when there was one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code ?? (status === 0 ? 'NETWORK_ERROR' : `HTTP_${status}`);
    this.problem = problem;
  }

  get items(): ProblemItem[] {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** Turns any response body into a Problem, tolerating non-JSON error pages. */
export function parseProblem(status: number, body: string): Problem {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object') {
      const p = parsed as Problem & { message?: string; error?: string };
      // Fastify's default error shape uses `message`/`error`; map it so it still reads well.
      return {
        ...p,
        status: p.status ?? status,
        title: p.title ?? p.error,
        detail: p.detail ?? p.message,
      };
    }
  } catch {
    // not JSON: fall through
  }
  return {
    status,
    title: `HTTP ${status}`,
    detail: body.slice(0, 500) || undefined,
  };
}
