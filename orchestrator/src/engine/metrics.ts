// Prometheus metrics, hand-written: a few counters and histograms are all
// the engine needs, and this keeps the hot path free of library overhead.

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    /** Upper bounds in seconds. */
    readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (seconds <= (this.buckets[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    let cumulative = 0;
    this.buckets.forEach((b, i) => {
      cumulative += this.counts[i] as number;
      lines.push(`${this.name}_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${this.sum}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

export function gauge(name: string, help: string, values: Array<[Record<string, string>, number]>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const [labels, v] of values) {
    const l = Object.entries(labels)
      .map(([k, val]) => `${k}="${val.replace(/["\\\n]/g, '_')}"`)
      .join(',');
    lines.push(`${name}${l ? `{${l}}` : ''} ${v}`);
  }
  return lines.join('\n');
}

export function counter(name: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

export class EngineMetrics {
  readonly dispatchLatency = new Histogram('orrery_dispatch_latency_seconds', 'Time from a task becoming ready to its Assign being sent', LATENCY_BUCKETS);
  readonly commitTime = new Histogram('orrery_journal_commit_seconds', 'Time to commit one tick of events to the journal', LATENCY_BUCKETS);
  eventsJournaled = 0;
  tasksDispatched = 0;
  staleResults = 0;
  devicesLost = 0;
  /** Other components' metrics in Prometheus text (artifacts), appended to /metrics. */
  readonly extra: Array<() => string> = [];
}
