// RFC 9457 problem+json bodies for every error the API answers with.
import type { FastifyReply } from 'fastify';
import { OrreryError, type ErrorIssue } from '../errors.js';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail?: string;
  hint?: string;
  errors?: ErrorIssue[];
}

export function toProblem(err: unknown): ProblemBody {
  if (err instanceof OrreryError) {
    return {
      type: `https://orrery.dev/errors/${err.code}`,
      title: err.message,
      status: err.status,
      code: err.code,
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.issues.length ? { errors: err.issues } : {}),
    };
  }
  const e = err as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  // Fastify's own errors (bad JSON, body too large, schema validation).
  if (e?.statusCode === 413 || e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return problem(413, 'PAYLOAD_TOO_LARGE', 'Request body is too large', e.message);
  }
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send application/json', e.message);
  }
  if (e?.validation) return problem(400, 'INVALID_REQUEST', 'Request does not match the API schema', e.message);
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || e.message?.includes('JSON') ? 'INVALID_JSON' : 'BAD_REQUEST';
    return problem(e.statusCode, code, 'Bad request', e.message);
  }
  return problem(500, 'INTERNAL', 'Internal error', 'The orchestrator hit an unexpected error; see its log.');
}

function problem(status: number, code: string, title: string, detail?: string): ProblemBody {
  return { type: `https://orrery.dev/errors/${code}`, title, status, code, ...(detail ? { detail } : {}) };
}

export function sendProblem(reply: FastifyReply, err: unknown): FastifyReply {
  const body = toProblem(err);
  return reply.code(body.status).type('application/problem+json').send(body);
}
