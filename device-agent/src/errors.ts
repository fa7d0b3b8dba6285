// Typed errors of the device agent, each with a stable string code that logs,
// Reject messages and Result errors carry verbatim.

export type AgentErrorCode =
  | 'AGENT_NO_FREE_SLOT'
  | 'AGENT_UNSUPPORTED_EXECUTOR'
  | 'AGENT_DRAINING'
  | 'AGENT_BAD_ASSIGN'
  | 'AGENT_OUTPUT_FAILED'
  | 'AGENT_SPAWN_FAILED'
  | 'AGENT_OUTBOX_IO'
  | 'AGENT_CREDENTIALS'
  | 'AGENT_ENROLL_FAILED'
  | 'AGENT_NOT_STARTED'
  | 'AGENT_SERVICE_UNSUPPORTED'
  | 'AGENT_SERVICE_PERMISSION'
  | 'AGENT_CONFIG_NOT_FOUND'
  | 'AGENT_CONFIG_PARSE'
  | 'AGENT_CONFIG_INVALID';

export class AgentError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AgentError';
    this.code = code;
  }
}

/** Reject codes sent to the orchestrator (short, stable, documented in README). */
export const REJECT_CODES = {
  noFreeSlot: 'NO_FREE_SLOT',
  unsupportedExecutor: 'UNSUPPORTED_EXECUTOR',
  draining: 'DRAINING',
  badAssign: 'BAD_ASSIGN',
  internal: 'AGENT_INTERNAL',
  executorNotAllowed: 'EXECUTOR_NOT_ALLOWED',
  commandNotAllowed: 'COMMAND_NOT_ALLOWED',
} as const;
