// Typed protocol errors. The code is stable (see proto/AIP.md "Error codes");
// the message is for humans and may change.
import type { AipErrorCode } from './contracts.js';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: AipErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Codes after which an agent must not reconnect on its own. */
export const TERMINAL_ERROR_CODES: ReadonlySet<string> = new Set([
  'AIP_UNAUTHENTICATED',
  'AIP_REVOKED',
  'AIP_UNSUPPORTED_VERSION',
  'AIP_SESSION_REPLACED',
]);

export function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof ProtocolError;
}
