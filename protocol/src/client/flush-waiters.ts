// Promises waiting for "every reliable message so far is acknowledged".
export class FlushWaiters {
  private waiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  wait(): Promise<void> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  resolveAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  rejectAll(err: Error): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }
}
