// Simulated agents in this process: real AIP sessions (the protocol's
// AipClient) that accept every Assign and hold it as "running" until told to
// finish, then send a SUCCEEDED Result. They report what they run in every
// Hello, as a real agent does, so an orchestrator restart can keep it.
import { AipClient, type Capabilities, type TaskRef } from '@orrery/protocol';

export class SimPool {
  readonly clients: AipClient[] = [];
  private readonly running = new Map<string, { client: AipClient; ref: TaskRef; startedAtMs: number }>();
  /** Completions sent per task (constellation/task), to count executions. */
  readonly completions = new Map<string, number>();
  private holding = true;

  constructor(
    private readonly aipUrl: string,
    readonly count: number,
    readonly slots: number,
    private readonly prefix = 'sim',
  ) {}

  get runningCount(): number {
    return this.running.size;
  }

  get names(): string[] {
    return Array.from({ length: this.count }, (_, i) => `${this.prefix}-${i}`);
  }

  async start(): Promise<void> {
    const welcomed: Array<Promise<unknown>> = [];
    for (const name of this.names) {
      const capabilities: Capabilities = {
        os: 'linux',
        arch: 'x64',
        labels: [],
        features: [],
        slots: this.slots,
        cpus: 2,
        memoryMb: 1024,
        gpus: 0,
        executors: ['shell'],
        hostname: 'sim',
      };
      const mine = (): Array<{ ref: TaskRef }> => [...this.running.values()].filter((r) => r.client === client);
      const client: AipClient = new AipClient({
        url: this.aipUrl,
        deviceId: name,
        deviceName: name,
        capabilities,
        agentVersion: 'fault-sim',
        reconnect: { initialMs: 100, maxMs: 500 },
        heartbeat: () => {
          const n = mine().length;
          return {
            running: n,
            freeSlots: Math.max(0, this.slots - n),
            batteryPercent: -1,
            thermalCelsius: -1,
            loadAvg: 0,
          };
        },
        taskReports: () => mine().map((r) => ({ ...r.ref, state: 'running' })),
      });
      client.on('message', (body) => {
        if (body.type === 'assign') {
          const ref = {
            constellationId: body.value.constellationId,
            taskId: body.value.taskId,
            attempt: body.value.attempt,
          };
          client.send({ type: 'accept', value: ref });
          const entry = { client, ref, startedAtMs: Date.now() };
          this.running.set(`${ref.constellationId}/${ref.taskId}/${ref.attempt}`, entry);
          if (!this.holding) this.finish(entry);
        } else if (body.type === 'cancel') {
          this.running.delete(`${body.value.constellationId}/${body.value.taskId}/${body.value.attempt}`);
        }
      });
      this.clients.push(client);
      welcomed.push(new Promise((r) => client.once('welcome', r)));
      client.start();
    }
    await Promise.all(welcomed);
  }

  /** Stop holding: finish everything running now and everything assigned later. */
  release(): void {
    this.holding = false;
    for (const entry of [...this.running.values()]) this.finish(entry);
  }

  private finish(entry: { client: AipClient; ref: TaskRef; startedAtMs: number }): void {
    const { ref } = entry;
    this.running.delete(`${ref.constellationId}/${ref.taskId}/${ref.attempt}`);
    const key = `${ref.constellationId}/${ref.taskId}`;
    this.completions.set(key, (this.completions.get(key) ?? 0) + 1);
    const now = Date.now();
    entry.client.send({
      type: 'result',
      value: {
        ...ref,
        outcome: 'SUCCEEDED',
        exitCode: 0,
        signal: '',
        outputs: {},
        error: '',
        startedAtMs: entry.startedAtMs,
        endedAtMs: now,
        stdoutBytes: 0,
        stderrBytes: 0,
      },
    });
  }

  async stop(): Promise<void> {
    await Promise.race([
      Promise.all(this.clients.map((c) => c.stop('fault scenario over').catch(() => undefined))),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
  }
}
