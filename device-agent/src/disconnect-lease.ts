// The agent's side of a lease: after this long without the orchestrator, the
// orchestrator has (or soon will have) declared the device lost and rerun its
// tasks elsewhere, so whatever still runs here would repeat a side effect.
// Set below the orchestrator's lost-device time it gives at-most-once side
// effects under partitions, at the cost of killing work that would have
// finished during a long but harmless disconnection.

/**
 * When contact was really lost. The session notices a silent (stalled)
 * connection only after several quiet heartbeat intervals and says so in the
 * reason ("orchestrator silent for N ms"); a closed connection is noticed at
 * once. Counting from the last contact keeps the lease comparable with the
 * orchestrator's clock, which starts at the last heartbeat it received.
 */
export function contactLostAt(reason: string, now: number): number {
  const m = /silent for (\d+) ms/.exec(reason);
  return m ? now - Number(m[1]) : now;
}

export class DisconnectLease {
  private timer: NodeJS.Timeout | undefined;
  private lostAt: number | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly onExpire: (disconnectedMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Since when the agent has been out of contact (undefined while connected). */
  get disconnectedSince(): number | undefined {
    return this.lostAt;
  }

  /** The connection dropped; a second drop before reconnecting keeps the first time. */
  disconnected(reason: string): void {
    if (this.lostAt !== undefined) return;
    const now = this.now();
    this.lostAt = contactLostAt(reason, now);
    const left = Math.max(0, this.lostAt + this.limitMs - now);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onExpire(this.now() - (this.lostAt ?? this.now()));
    }, left);
    this.timer.unref();
  }

  /** Welcomed again: the lease runs afresh from the next disconnection. */
  connected(): void {
    this.lostAt = undefined;
    this.clear();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
