// An in-process stand-in for the protocol's AipClient, used only by the agent
// runtime tests: it records what the agent sends and lets the test deliver
// orchestrator messages and acknowledgements.
import { EventEmitter } from 'node:events';
import type { AipClientConfig, AipClientSession, Body, Welcome } from '@orrery/protocol';

export class FakeSession extends EventEmitter implements AipClientSession {
  readonly sent: Body[] = [];
  started = false;
  stoppedWith: string | undefined;
  private acked = 0;
  private flushWaiters: Array<() => void> = [];

  constructor(readonly config: AipClientConfig) {
    super();
  }

  start(): void {
    this.started = true;
    const welcome: Welcome = {
      protocolVersion: 1,
      sessionId: 's1',
      deviceId: this.config.deviceId || 'dev-1',
      resumeAck: 0,
      resumed: false,
      heartbeatIntervalMs: 1000,
      leaseMs: 3000,
      maxFrameBytes: 4 << 20,
    };
    queueMicrotask(() => this.emit('welcome', welcome));
  }

  send(body: Body): void {
    this.sent.push(body);
  }

  /** Acknowledges everything sent so far, as the orchestrator would. */
  ackAll(): void {
    const items = this.sent.slice(this.acked);
    this.acked = this.sent.length;
    let seq = this.acked - items.length;
    for (const body of items) this.emit('acked', ++seq, body);
    for (const w of this.flushWaiters.splice(0)) w();
  }

  flushed(): Promise<void> {
    if (this.acked === this.sent.length) return Promise.resolve();
    return new Promise((r) => this.flushWaiters.push(r));
  }

  async stop(reason?: string): Promise<void> {
    this.stoppedWith = reason ?? '';
  }

  deliver(body: Body): void {
    this.emit('message', body);
  }

  of<T extends Body['type']>(type: T): Extract<Body, { type: T }>['value'][] {
    return this.sent.filter((b) => b.type === type).map((b) => b.value as Extract<Body, { type: T }>['value']);
  }
}
