// The orchestrator end of AIP: accepts connections from any transport, runs
// the handshake, and keeps one logical session per device.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AipServerOptions, Channel, ServerSession } from '../contracts.js';
import { type AipLogger, silentLogger } from '../logger.js';
import { type Body, type Hello, SUPPORTED_PROTOCOL_VERSIONS } from '../messages.js';
import { listenGrpc, type GrpcListener, type TlsServerOptions } from '../transport/grpc-server.js';
import { DEFAULT_MAX_FRAME_BYTES, transportLimit } from '../transport/frame-limit.js';
import { attachWsListener, type WsListener } from '../transport/ws-server.js';
import { type PendingHandshake, startHandshake } from './handshake.js';
import { AipServerSession } from './server-session.js';

export type { TlsServerOptions };

export interface AipServerConfig extends AipServerOptions {
  logger?: AipLogger;
  /** Versions this orchestrator speaks (default SUPPORTED_PROTOCOL_VERSIONS). */
  protocolVersions?: readonly number[];
  /** Hello/Enroll must arrive within this (default 5000 ms). */
  helloTimeoutMs?: number;
  /** A connection silent for this many heartbeat intervals is closed (default 3). */
  missedHeartbeats?: number;
  /** Delay before a standalone ack (default 100 ms). */
  ackDelayMs?: number;
  /**
   * Acknowledge agent messages only when the application calls
   * ServerSession.ackReceived() (after making them durable). Default false.
   */
  holdAcks?: boolean;
  /** Sustained frames per second per connection before AIP_RATE_LIMITED (burst twice that); unset = no limit. */
  maxFramesPerSecond?: number;
}

export class AipServer extends EventEmitter {
  private readonly sessions = new Map<string, AipServerSession>();
  private readonly byDevice = new Map<string, AipServerSession>();
  private readonly handshakes = new Set<PendingHandshake>();
  private readonly wsListeners: WsListener[] = [];
  private readonly grpcListeners: GrpcListener[] = [];
  private readonly ownedHttpServers: http.Server[] = [];
  private readonly logger: AipLogger;
  readonly heartbeatIntervalMs: number;
  readonly leaseMs: number;
  readonly maxFrameBytes: number;
  private readonly retentionMs: number;
  private readonly livenessTimer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: AipServerConfig) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 2000;
    this.leaseMs = options.leaseMs ?? 3 * this.heartbeatIntervalMs;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.retentionMs = options.sessionRetentionMs ?? 60_000;
    // One sweep for all sessions rather than a timer per frame.
    const silenceMs = (options.missedHeartbeats ?? 3) * this.heartbeatIntervalMs;
    this.livenessTimer = setInterval(() => this.sweep(silenceMs), Math.max(50, this.heartbeatIntervalMs / 2));
    this.livenessTimer.unref();
  }

  override on(event: 'session', handler: (session: ServerSession, resumed: boolean) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter overload signature
  override on(event: string, handler: (...args: any[]) => void): this {
    return super.on(event, handler);
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    try {
      return super.emit(event, ...args);
    } catch (err) {
      this.logger.error({ err, event: String(event) }, 'aip server handler threw');
      return true;
    }
  }

  /** Serves AIP over WebSocket on an existing http(s) server, at `path`. */
  attachWebSocket(server: http.Server | https.Server, path = '/v1/aip'): void {
    this.wsListeners.push(
      attachWsListener(server, path, transportLimit(this.maxFrameBytes), (ch) => this.accept(ch)),
    );
  }

  /** Creates its own http(s) server for AIP over WebSocket; returns the bound port. */
  async listenWebSocket(host: string, port: number, tls?: TlsServerOptions, path = '/v1/aip'): Promise<number> {
    const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem }) : http.createServer();
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('AIP needs a WebSocket upgrade\n');
    });
    this.attachWebSocket(server, path);
    this.ownedHttpServers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Serves AIP over gRPC (`orrery.aip.v1.Aip/Connect`); returns the bound port. */
  async listenGrpc(host: string, port: number, tls?: TlsServerOptions): Promise<number> {
    const listener = await listenGrpc(host, port, transportLimit(this.maxFrameBytes), (ch) => this.accept(ch), tls);
    this.grpcListeners.push(listener);
    return listener.port;
  }

  /** Hands a connection from any transport to the server. */
  accept(channel: Channel): void {
    if (this.closed) {
      channel.close();
      return;
    }
    const handshake = startHandshake(channel, {
      options: this.options,
      supportedVersions: this.options.protocolVersions ?? SUPPORTED_PROTOCOL_VERSIONS,
      maxFrameBytes: this.maxFrameBytes,
      helloTimeoutMs: this.options.helloTimeoutMs ?? 5000,
      logger: this.logger,
      onAuthenticated: (ch, hello, deviceId, version, held) => {
        this.handshakes.delete(handshake);
        this.bind(ch, hello, deviceId, version, held);
      },
    });
    this.handshakes.add(handshake);
    channel.onClose(() => this.handshakes.delete(handshake));
  }

  /** The live or resumable session of a device, if any. */
  sessionFor(deviceId: string): ServerSession | undefined {
    return this.byDevice.get(deviceId);
  }

  /** Every live or resumable session. */
  allSessions(): ServerSession[] {
    return [...this.sessions.values()];
  }

  /** Tells every agent we are going away (they reconnect later), then stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.livenessTimer);
    for (const h of this.handshakes) h.abort('AIP_SHUTTING_DOWN', 'orchestrator shutting down');
    for (const s of [...this.sessions.values()]) {
      s.kick('AIP_SHUTTING_DOWN', 'orchestrator shutting down');
      s.end('server closed');
    }
    for (const l of this.wsListeners) l.close();
    await Promise.all(this.grpcListeners.map((l) => l.close()));
    await Promise.all(
      this.ownedHttpServers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  private bind(channel: Channel, hello: Hello, deviceId: string, version: number, held: Uint8Array[]): void {
    const existing = this.byDevice.get(deviceId);
    const resumable =
      existing !== undefined && hello.resumeSessionId !== '' && hello.resumeSessionId === existing.sessionId;
    let session: AipServerSession;
    if (resumable && existing) {
      existing.kick('AIP_SESSION_REPLACED', 'a newer connection resumed this session');
      session = existing;
    } else {
      if (existing) {
        existing.kick('AIP_SESSION_REPLACED', 'a newer connection opened a new session for this device');
        existing.end('replaced by a new session');
      }
      session = this.createSession(deviceId);
    }
    const welcome: Body = {
      type: 'welcome',
      value: {
        protocolVersion: version,
        sessionId: session.sessionId,
        deviceId,
        resumeAck: resumable ? session.lastAckable : 0,
        resumed: resumable,
        heartbeatIntervalMs: this.heartbeatIntervalMs,
        leaseMs: this.leaseMs,
        maxFrameBytes: this.maxFrameBytes,
      },
    };
    session.attach(channel, hello, version, welcome, resumable);
    this.logger.info(
      { deviceId, sessionId: session.sessionId, resumed: resumable, transport: channel.transport },
      'aip session open',
    );
    this.emit('session', session, resumable);
    if (resumable) session.emit('resume');
    for (const bytes of held) session.onFrame(channel, bytes);
  }

  private createSession(deviceId: string): AipServerSession {
    const session = new AipServerSession({
      sessionId: randomBytes(12).toString('base64url'),
      deviceId,
      maxFrameBytes: this.maxFrameBytes,
      retentionMs: this.retentionMs,
      ackDelayMs: this.options.ackDelayMs ?? 100,
      holdAcks: this.options.holdAcks ?? false,
      ...(this.options.maxFramesPerSecond ? { maxFramesPerSecond: this.options.maxFramesPerSecond } : {}),
      logger: this.logger,
      onEnd: (s) => {
        this.sessions.delete(s.sessionId);
        if (this.byDevice.get(s.deviceId) === s) this.byDevice.delete(s.deviceId);
      },
    });
    this.sessions.set(session.sessionId, session);
    this.byDevice.set(deviceId, session);
    return session;
  }

  private sweep(silenceMs: number): void {
    const now = Date.now();
    for (const s of this.sessions.values()) {
      if (s.connected && now - s.lastFrameAt > silenceMs) {
        this.logger.info({ deviceId: s.deviceId }, 'aip connection silent; closing');
        s.kick('AIP_HEARTBEAT_TIMEOUT', `no frame for ${silenceMs} ms`);
      }
    }
  }
}
