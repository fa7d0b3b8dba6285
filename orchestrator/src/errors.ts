// Typed errors with stable codes. Every error that reaches a user (HTTP,
// CLI) carries one of these codes; messages are for people and may change.

export interface ErrorIssue {
  code: string;
  message: string;
  path?: string;
  line?: number;
  column?: number;
}

export class OrreryError extends Error {
  readonly code: string;
  /** HTTP status the API answers with. */
  readonly status: number;
  readonly issues: ErrorIssue[];
  readonly hint?: string;

  constructor(code: string, message: string, opts: { status?: number; issues?: ErrorIssue[]; hint?: string } = {}) {
    super(message);
    this.name = 'OrreryError';
    this.code = code;
    this.status = opts.status ?? 400;
    this.issues = opts.issues ?? [];
    this.hint = opts.hint;
  }
}

export const notFound = (what: string, id: string): OrreryError =>
  new OrreryError('NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`, { status: 404 });
