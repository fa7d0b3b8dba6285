// Fair-share usage per constellation and per owner: tasks running now plus
// tasks dispatched recently (an exponentially decayed count). The decayed part
// matters because short tasks finish before the next round, so "running"
// alone would make a 10,000-task graph look idle and let it hog dispatch.
// Share = usage / weight; the smaller share goes first.

interface Usage {
  running: number;
  recent: number;
  at: number;
}

export class FairShare {
  private readonly usage = new Map<string, Usage>();
  private readonly weights = new Map<string, number>();
  private readonly lambda: number;

  constructor(halfLifeMs: number) {
    this.lambda = Math.LN2 / Math.max(1, halfLifeMs);
  }

  setWeight(id: string, weight: number): void {
    if (weight > 0 && weight !== 1) this.weights.set(id, weight);
    else this.weights.delete(id);
  }

  share(id: string, now: number): number {
    const u = this.usage.get(id);
    if (!u) return 0;
    return (u.running + this.decayed(u, now)) / (this.weights.get(id) ?? 1);
  }

  dispatched(id: string, now: number): void {
    const u = this.usage.get(id);
    if (u) {
      u.recent = this.decayed(u, now) + 1;
      u.at = now;
      u.running++;
    } else this.usage.set(id, { running: 1, recent: 1, at: now });
  }

  /** A task of `id` ended. `idle` lets the record go when nothing of `id` is queued or running. */
  ended(id: string, idle: boolean): void {
    const u = this.usage.get(id);
    if (!u) return;
    u.running = Math.max(0, u.running - 1);
    if (idle && u.running === 0) this.usage.delete(id);
  }

  running(id: string): number {
    return this.usage.get(id)?.running ?? 0;
  }

  private decayed(u: Usage, now: number): number {
    const dt = now - u.at;
    return dt <= 0 ? u.recent : u.recent * Math.exp(-this.lambda * dt);
  }
}
