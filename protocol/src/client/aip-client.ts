// The agent end of AIP: one logical session that survives reconnects. It
// dials out, says Hello (with the resume point), waits for Welcome, then
// either resumes (replaying what the orchestrator has not acknowledged) or,
// when the orchestrator lost the session, re-sends every unacknowledged
// reliable message under fresh seqs (at-least-once; results are de-duplicated
// upstream by attempt).
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { decodeEnvelope, encodeEnvelope } from '../codec.js';
import type { AipClientSession, Channel } from '../contracts.js';
import { AGENT_SENDS, ORCHESTRATOR_SENDS } from '../directions.js';
import { ProtocolError, TERMINAL_ERROR_CODES } from '../errors.js';
import { type AipLogger, silentLogger } from '../logger.js';
import {
  ARTIFACT_TYPES,
  ARTIFACTS_VERSION,
  type Body,
  type Envelope,
  type Heartbeat,
  type ProtocolErrorBody,
  SUPPORTED_PROTOCOL_VERSIONS,
  type TaskReport,
  type Welcome,
} from '../messages.js';
import { ReliableLink } from '../session/reliable-link.js';
import { dialChannel } from '../transport/dial.js';
import { DEFAULT_MAX_FRAME_BYTES, transportLimit } from '../transport/frame-limit.js';
import type { AipClientConfig } from './aip-client-options.js';
import { backoffDelay } from './backoff.js';
import { FlushWaiters } from './flush-waiters.js';

export type { AipClientConfig };

type State = 'idle' | 'connecting' | 'handshaking' | 'open' | 'waiting' | 'stopped' | 'fatal';

export class AipClient extends EventEmitter implements AipClientSession {
  private state: State = 'idle';
  private channel: Channel | undefined;
  private sessionId = '';
  /** From options, then as the orchestrator states it in Welcome (authoritative). */
  private deviceId: string;
  private attempt = 0;
  /** Bumped by stop(): a dial that was in flight must not revive the client. */
  private generation = 0;
  private welcome: Welcome | undefined;
  private lastFrameAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly flushWaiters = new FlushWaiters();
  private readonly link: ReliableLink;
  private readonly logger: AipLogger;

  constructor(private readonly options: AipClientConfig) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.deviceId = options.deviceId ?? '';
    this.link = new ReliableLink({
      maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      ackDelayMs: options.ackDelayMs ?? 100,
      onAcked: (released) => {
        for (const item of released) this.emit('acked', item.seq, item.body);
        if (this.link.unacked === 0) this.flushWaiters.resolveAll();
      },
    });
  }

  override on(event: 'welcome', handler: (welcome: Welcome) => void): this;
  override on(event: 'message', handler: (body: Body) => void): this;
  override on(event: 'acked', handler: (seq: number, body: Body) => void): this;
  override on(event: 'disconnect', handler: (reason: string) => void): this;
  override on(event: 'fatal', handler: (code: string, message: string) => void): this;
  override on(event: 'artifact', handler: (body: Body) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter overload signature
  override on(event: string, handler: (...args: any[]) => void): this {
    return super.on(event, handler);
  }

  /** A throwing handler is the application's bug: logged, never a protocol error. */
  override emit(event: string | symbol, ...args: unknown[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.logger.error({ err, event: String(event) }, 'aip client handler threw');
      return true;
    }
  }

  /** True between a Welcome and the loss of that connection. */
  get connected(): boolean {
    return this.state === 'open';
  }

  /** The current (or last) session id; empty before the first Welcome. */
  get currentSessionId(): string {
    return this.sessionId;
  }

  /** The latest Welcome (heartbeat interval, lease, frame limit). */
  get lastWelcome(): Welcome | undefined {
    return this.welcome;
  }

  /** Reliable messages not yet acknowledged by the orchestrator. */
  get unacked(): number {
    return this.link.unacked;
  }

  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') return;
    this.state = 'connecting';
    void this.connect();
  }

  send(body: Body): void {
    if (body.type === 'hello' || body.type === 'enroll' || !AGENT_SENDS.has(body.type)) {
      throw new ProtocolError('AIP_BAD_FRAME', `an agent may not send ${body.type} through the session`);
    }
    this.link.send(body);
  }

  bufferedBytes(): number {
    return this.link.bufferedBytes();
  }

  flushed(): Promise<void> {
    if (this.link.unacked === 0) return Promise.resolve();
    return this.flushWaiters.wait();
  }

  async stop(reason = 'agent stopping'): Promise<void> {
    if (this.state === 'stopped') return;
    const wasOpen = this.state === 'open';
    this.state = 'stopped';
    this.generation++;
    this.clearTimers();
    const channel = this.channel;
    if (channel) {
      if (wasOpen) this.link.sendControl({ type: 'goodbye', value: { reason } });
      this.dropChannel();
      channel.close();
    }
    this.flushWaiters.rejectAll(new ProtocolError('AIP_SHUTTING_DOWN', `client stopped: ${reason}`));
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    const generation = this.generation;
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    let channel: Channel;
    try {
      channel = await dialChannel(this.options.url, {
        maxPayload: transportLimit(this.link.maxFrameBytes),
        connectTimeoutMs: timeoutMs,
        ...(this.options.caPem ? { caPem: this.options.caPem } : {}),
      });
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, url: this.options.url }, 'aip dial failed');
      if (generation === this.generation) this.scheduleReconnect();
      return;
    }
    if (this.state !== 'connecting' || generation !== this.generation) {
      channel.close();
      return;
    }
    this.state = 'handshaking';
    this.channel = channel;
    this.lastFrameAt = Date.now();
    channel.onFrame((bytes) => this.onFrame(channel, bytes));
    channel.onClose((reason) => this.onChannelClose(channel, reason));
    const hello: Body = {
      type: 'hello',
      value: {
        protocolVersions: this.options.protocolVersions ?? [...SUPPORTED_PROTOCOL_VERSIONS],
        deviceId: this.deviceId,
        deviceName: this.options.deviceName,
        credential: this.options.credential ?? '',
        capabilities: this.options.capabilities,
        resumeSessionId: this.sessionId,
        resumeAck: this.link.lastReceived,
        agentVersion: this.options.agentVersion ?? '',
        running: this.taskReports(),
      },
    };
    try {
      channel.send(encodeEnvelope({ seq: 0, ack: this.link.lastReceived, sentAtMs: Date.now(), body: hello }));
    } catch (err) {
      // A bad capabilities object or a throwing taskReports(): our bug, but
      // keep the agent alive and retrying rather than crash on a rejection.
      this.logger.error({ err }, 'aip could not build Hello');
      this.closeChannel('could not build Hello');
      return;
    }
    this.timer = setTimeout(() => {
      this.logger.warn({ url: this.options.url }, 'aip no Welcome in time; reconnecting');
      this.closeChannel('no Welcome in time');
    }, timeoutMs);
    this.timer.unref();
  }

  private taskReports(): TaskReport[] {
    try {
      return this.options.taskReports?.() ?? [];
    } catch (err) {
      this.logger.error({ err }, 'aip taskReports() threw; reporting none');
      return [];
    }
  }

  private onFrame(channel: Channel, bytes: Uint8Array): void {
    if (channel !== this.channel) return;
    this.lastFrameAt = Date.now();
    let env: Envelope;
    try {
      env = decodeEnvelope(bytes, this.link.maxFrameBytes);
      if (!ORCHESTRATOR_SENDS.has(env.body.type)) {
        throw new ProtocolError('AIP_BAD_FRAME', `an orchestrator may not send ${env.body.type}`);
      }
      this.dispatch(env);
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : 'AIP_INTERNAL';
      const message = (err as Error).message;
      this.logger.warn({ code, message }, 'aip protocol error from orchestrator; reconnecting');
      channel.send(
        encodeEnvelope({ seq: 0, ack: 0, sentAtMs: Date.now(), body: { type: 'error', value: { code, message, fatal: true } } }),
      );
      this.closeChannel(`${code}: ${message}`);
    }
  }

  private dispatch(env: Envelope): void {
    const body = env.body;
    if (body.type === 'error') {
      this.onErrorFrame(body.value);
      return;
    }
    if (this.state === 'handshaking') {
      if (body.type !== 'welcome') {
        throw new ProtocolError('AIP_OUT_OF_ORDER', `expected welcome, got ${body.type}`);
      }
      this.onWelcome(body.value);
      return;
    }
    if (body.type === 'welcome' || body.type === 'enrolled') {
      throw new ProtocolError('AIP_OUT_OF_ORDER', `${body.type} after the handshake`);
    }
    if (ARTIFACT_TYPES.has(body.type) && (this.welcome?.protocolVersion ?? 0) < ARTIFACTS_VERSION) {
      throw new ProtocolError('AIP_UNKNOWN_MESSAGE', `${body.type} needs protocol version ${ARTIFACTS_VERSION}`);
    }
    const receipt = this.link.receive(env);
    if (receipt === 'deliver') {
      this.emit('message', body);
    } else if (receipt === 'control' && body.type === 'goodbye') {
      this.becomeFatal('AIP_GOODBYE', body.value.reason);
    } else if (receipt === 'control' && ARTIFACT_TYPES.has(body.type)) {
      this.emit('artifact', body);
    }
  }

  private onWelcome(welcome: Welcome): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const channel = this.channel as Channel;
    const resumed = welcome.resumed && welcome.sessionId === this.sessionId;
    this.welcome = welcome;
    this.sessionId = welcome.sessionId;
    if (welcome.deviceId !== '') this.deviceId = welcome.deviceId;
    this.attempt = 0;
    this.state = 'open';
    if (welcome.maxFrameBytes > 0) this.link.maxFrameBytes = welcome.maxFrameBytes;
    this.link.attach(channel);
    if (resumed) this.link.replay(welcome.resumeAck);
    else this.link.restart();
    this.logger.info({ sessionId: welcome.sessionId, resumed, transport: channel.transport }, 'aip welcomed');
    this.startHeartbeats(welcome.heartbeatIntervalMs || 2000);
    this.emit('welcome', welcome);
  }

  private onErrorFrame(error: ProtocolErrorBody): void {
    if (TERMINAL_ERROR_CODES.has(error.code)) {
      this.becomeFatal(error.code, error.message);
      return;
    }
    this.logger.warn({ ...error }, 'aip error from orchestrator');
    if (error.fatal) this.closeChannel(`${error.code}: ${error.message}`);
  }

  private becomeFatal(code: string, message: string): void {
    this.logger.error({ code, message }, 'aip fatal; not reconnecting');
    this.state = 'fatal';
    this.clearTimers();
    const channel = this.channel;
    if (channel) {
      this.dropChannel();
      channel.close();
      this.emit('disconnect', `${code}: ${message}`);
    }
    this.flushWaiters.rejectAll(new ProtocolError('AIP_SHUTTING_DOWN', `session ended: ${code}`));
    this.emit('fatal', code, message);
  }

  private startHeartbeats(intervalMs: number): void {
    const silenceMs = (this.options.missedHeartbeats ?? 3) * intervalMs;
    const beat = (): void => {
      if (Date.now() - this.lastFrameAt > silenceMs) {
        this.closeChannel(`orchestrator silent for ${silenceMs} ms`);
        return;
      }
      this.link.send({ type: 'heartbeat', value: this.heartbeatValue() });
    };
    beat();
    this.heartbeatTimer = setInterval(beat, intervalMs);
    this.heartbeatTimer.unref();
  }

  private heartbeatValue(): Heartbeat {
    if (this.options.heartbeat) {
      try {
        return this.options.heartbeat();
      } catch (err) {
        this.logger.error({ err }, 'aip heartbeat() threw; sending defaults');
      }
    }
    return {
      running: 0,
      freeSlots: this.options.capabilities.slots,
      batteryPercent: -1,
      thermalCelsius: -1,
      loadAvg: os.loadavg()[0] ?? 0,
    };
  }

  private onChannelClose(channel: Channel, reason: string): void {
    if (channel !== this.channel) return;
    this.dropChannel();
    this.emit('disconnect', reason);
    this.scheduleReconnect();
  }

  private closeChannel(reason: string): void {
    const channel = this.channel;
    if (!channel) return;
    this.dropChannel();
    channel.close();
    this.emit('disconnect', reason);
    this.scheduleReconnect();
  }

  private dropChannel(): void {
    this.channel = undefined;
    this.link.detach();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped' || this.state === 'fatal') return;
    this.state = 'waiting';
    const delay = backoffDelay(
      this.attempt++,
      this.options.reconnect?.initialMs ?? 250,
      this.options.reconnect?.maxMs ?? 30_000,
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.timer = undefined;
    this.heartbeatTimer = undefined;
  }
}
