// Orchestrator side of one device's logical session. It outlives single
// connections: a dropped connection leaves it resumable for the retention
// period, with unacknowledged messages kept for replay.
import { EventEmitter } from 'node:events';
import { decodeEnvelope, encodeEnvelope } from '../codec.js';
import type { AipErrorCode, Channel, ServerSession } from '../contracts.js';
import { AGENT_SENDS } from '../directions.js';
import { ProtocolError } from '../errors.js';
import type { AipLogger } from '../logger.js';
import { ARTIFACT_TYPES, ARTIFACTS_VERSION, type Body, type Envelope, type Hello } from '../messages.js';
import { ReliableLink } from '../session/reliable-link.js';

export interface ServerSessionConfig {
  sessionId: string;
  deviceId: string;
  maxFrameBytes: number;
  retentionMs: number;
  ackDelayMs: number;
  /** Acks wait for ackReceived() (the orchestrator's journal commit). */
  holdAcks?: boolean;
  /** Sustained frames per second one connection may send (burst: twice that); unset = no limit. */
  maxFramesPerSecond?: number;
  logger: AipLogger;
  onEnd: (session: AipServerSession) => void;
}

export class AipServerSession extends EventEmitter implements ServerSession {
  readonly sessionId: string;
  readonly deviceId: string;
  hello!: Hello;
  /** Highest protocol version agreed on the latest connection. */
  protocolVersion = 0;
  /** Wall-clock ms of the last frame received on the live connection. */
  lastFrameAt = 0;
  private channel: Channel | undefined;
  private ended = false;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly link: ReliableLink;

  constructor(private readonly config: ServerSessionConfig) {
    super();
    this.sessionId = config.sessionId;
    this.deviceId = config.deviceId;
    this.link = new ReliableLink({
      maxFrameBytes: config.maxFrameBytes,
      ackDelayMs: config.ackDelayMs,
      holdAcks: config.holdAcks ?? false,
    });
  }

  get connected(): boolean {
    return this.channel !== undefined;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Highest agent seq received. */
  get lastReceived(): number {
    return this.link.lastReceived;
  }

  /** What we may acknowledge (Welcome.resume_ack on resume): with holdAcks, only what was released. */
  get lastAckable(): number {
    return this.link.ackable;
  }

  /** With holdAcks: every message delivered so far is durable; acknowledge it to the agent. */
  ackReceived(): void {
    this.link.ackThrough(this.link.lastReceived);
  }

  /** Reliable messages sent to the agent and not yet acknowledged. */
  get unacked(): number {
    return this.link.unacked;
  }

  override on(event: 'message', handler: (body: Body) => void): this;
  override on(event: 'heartbeat', handler: (hb: import('../messages.js').Heartbeat) => void): this;
  override on(event: 'disconnect', handler: (reason: string) => void): this;
  override on(event: 'resume', handler: () => void): this;
  override on(event: 'end', handler: (reason: string) => void): this;
  override on(event: 'artifact', handler: (body: Body) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter overload signature
  override on(event: string, handler: (...args: any[]) => void): this {
    return super.on(event, handler);
  }

  /**
   * Runs application handlers. A throwing handler is the application's bug,
   * not the agent's: it is logged and must not close the connection.
   */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.config.logger.error({ err, deviceId: this.deviceId, event: String(event) }, 'aip session handler threw');
      return true;
    }
  }

  send(body: Body): void {
    if (this.ended) {
      this.config.logger.debug({ deviceId: this.deviceId, type: body.type }, 'aip send on ended session dropped');
      return;
    }
    this.link.send(body);
  }

  /** Bytes written to the live connection but not yet sent (backpressure for artifact chunks). */
  bufferedBytes(): number {
    return this.link.bufferedBytes();
  }

  terminate(code: AipErrorCode, message: string): void {
    if (this.ended) return;
    this.kick(code, message);
    this.end(`terminated: ${code}`);
  }

  /**
   * Binds a new connection (new session or resume), sends Welcome, replays
   * what the agent has not acknowledged. The caller has already replaced any
   * previous connection.
   */
  attach(channel: Channel, hello: Hello, version: number, welcome: Body, resumed: boolean): void {
    this.clearRetention();
    this.hello = hello;
    this.protocolVersion = version;
    this.channel = channel;
    this.lastFrameAt = Date.now();
    this.link.attach(channel);
    channel.onFrame((bytes) => this.onFrame(channel, bytes));
    channel.onClose((reason) => this.onChannelClose(channel, reason));
    this.link.sendControl(welcome);
    this.link.replay(resumed ? hello.resumeAck : 0);
  }

  /** Feeds a frame that arrived on `channel` before the session existed. */
  onFrame(channel: Channel, bytes: Uint8Array): void {
    if (channel !== this.channel) return;
    this.lastFrameAt = Date.now();
    if (this.config.maxFramesPerSecond && !this.takeToken(this.lastFrameAt, this.config.maxFramesPerSecond)) {
      this.config.logger.warn({ deviceId: this.deviceId }, 'aip frame flood; closing connection');
      this.kick('AIP_RATE_LIMITED', `more than ${this.config.maxFramesPerSecond} frames per second`);
      return;
    }
    let env: Envelope;
    try {
      env = decodeEnvelope(bytes, this.config.maxFrameBytes);
      if (!AGENT_SENDS.has(env.body.type)) {
        throw new ProtocolError('AIP_BAD_FRAME', `an agent may not send ${env.body.type}`);
      }
      if (env.body.type === 'hello' || env.body.type === 'enroll') {
        throw new ProtocolError('AIP_OUT_OF_ORDER', `${env.body.type} after the handshake`);
      }
      if (ARTIFACT_TYPES.has(env.body.type) && this.protocolVersion < ARTIFACTS_VERSION) {
        throw new ProtocolError('AIP_UNKNOWN_MESSAGE', `${env.body.type} needs protocol version ${ARTIFACTS_VERSION}`);
      }
      this.dispatch(env);
    } catch (err) {
      this.protocolFailure(err);
    }
  }

  /** Token bucket: a flooding connection is closed before it can starve the others. */
  private tokens = Number.NaN;
  private tokensAt = 0;
  private takeToken(now: number, rate: number): boolean {
    const burst = 2 * rate;
    if (Number.isNaN(this.tokens)) this.tokens = burst;
    this.tokens = Math.min(burst, this.tokens + ((now - this.tokensAt) * rate) / 1000);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Closes the live connection with a fatal Error frame; the session stays resumable. */
  kick(code: AipErrorCode, message: string): void {
    const channel = this.channel;
    if (!channel) return;
    channel.send(encodeEnvelope(errorEnvelope(code, message, this.link.ackable)));
    this.detach(`${code}: ${message}`);
    channel.close();
  }

  /** Ends the session for good. */
  end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    const channel = this.channel;
    if (channel) {
      this.detach(reason);
      channel.close();
    }
    this.clearRetention();
    this.link.dispose();
    this.config.onEnd(this);
    this.emit('end', reason);
  }

  private dispatch(env: Envelope): void {
    const receipt = this.link.receive(env);
    if (receipt === 'deliver') {
      this.emit('message', env.body);
      return;
    }
    if (receipt === 'duplicate') return;
    const body = env.body;
    switch (body.type) {
      case 'heartbeat':
        // The answer doubles as the agent's proof that we are alive.
        this.link.sendControl({ type: 'ackOnly', value: {} });
        this.emit('heartbeat', body.value);
        return;
      case 'goodbye':
        this.end(`goodbye: ${body.value.reason}`);
        return;
      case 'error':
        this.config.logger.warn({ deviceId: this.deviceId, ...body.value }, 'aip error from agent');
        if (body.value.fatal && this.channel) {
          const channel = this.channel;
          this.detach(`agent error ${body.value.code}: ${body.value.message}`);
          channel.close();
        }
        return;
      default:
        // Artifact bodies are unsequenced: their transfer keeps its own offsets.
        if (ARTIFACT_TYPES.has(body.type)) this.emit('artifact', body);
        return; // ackOnly: the ack was applied by receive()
    }
  }

  private protocolFailure(err: unknown): void {
    const code = err instanceof ProtocolError ? err.code : 'AIP_INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    this.config.logger.warn({ deviceId: this.deviceId, code, message }, 'aip protocol error; closing connection');
    this.kick(code, message);
  }

  private onChannelClose(channel: Channel, reason: string): void {
    if (channel !== this.channel) return;
    this.detach(reason);
  }

  private detach(reason: string): void {
    if (!this.channel) return;
    this.channel = undefined;
    this.link.detach();
    if (!this.ended) {
      this.retentionTimer = setTimeout(() => this.end('retention expired'), this.config.retentionMs);
      this.retentionTimer.unref();
    }
    this.emit('disconnect', reason);
  }

  private clearRetention(): void {
    if (this.retentionTimer) {
      clearTimeout(this.retentionTimer);
      this.retentionTimer = undefined;
    }
  }
}

export function errorEnvelope(code: AipErrorCode, message: string, ack: number): Envelope {
  return {
    seq: 0,
    ack,
    sentAtMs: Date.now(),
    body: { type: 'error', value: { code, message, fatal: true } },
  };
}
