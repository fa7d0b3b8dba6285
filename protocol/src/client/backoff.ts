// Exponential backoff with full jitter: uniform in [0, min(max, initial*2^n)].
// Full jitter spreads a fleet of agents reconnecting after an orchestrator
// restart instead of having them retry in lockstep.
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
