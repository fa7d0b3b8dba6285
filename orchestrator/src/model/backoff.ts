// Retry backoff: exponential with a multiplier, capped, with jitter passed in
// (a number in [0, 1)) so that the model stays deterministic.

import type { RetryPolicy } from './types.js';

/**
 * Delay before retry number `retry` (1 = first retry). Jitter removes up to
 * half of the delay: jitter 0 gives the full capped delay, 0.99 about half.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, jitter = 0): number {
  const exp = policy.initialBackoffMs * policy.multiplier ** Math.max(0, retry - 1);
  const capped = Math.min(Number.isFinite(exp) ? exp : policy.maxBackoffMs, policy.maxBackoffMs);
  const j = Math.min(Math.max(jitter, 0), 1);
  return Math.max(0, Math.round(capped - capped * 0.5 * j));
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  max: 0,
  initialBackoffMs: 1000,
  maxBackoffMs: 60_000,
  multiplier: 2,
};
