// The public contracts of the protocol package. The orchestrator and the
// device agent code against these; transports and session logic implement
// them. Keep this file free of implementation.
import type { Body, Capabilities, Enroll, Enrolled, Heartbeat, Hello, Welcome } from './messages.js';

/** Stable protocol error codes (see proto/AIP.md). */
export type AipErrorCode =
  | 'AIP_BAD_FRAME'
  | 'AIP_FRAME_TOO_LARGE'
  | 'AIP_UNKNOWN_MESSAGE'
  | 'AIP_UNSUPPORTED_VERSION'
  | 'AIP_UNAUTHENTICATED'
  | 'AIP_REVOKED'
  | 'AIP_OUT_OF_ORDER'
  | 'AIP_RATE_LIMITED'
  | 'AIP_HELLO_TIMEOUT'
  | 'AIP_HEARTBEAT_TIMEOUT'
  | 'AIP_SESSION_REPLACED'
  | 'AIP_SHUTTING_DOWN'
  | 'AIP_INTERNAL';

/** A raw, unreliable, ordered pipe of Envelopes (one WebSocket or one gRPC stream). */
export interface Channel {
  readonly transport: 'ws' | 'grpc';
  readonly remoteAddress: string;
  send(envelopeBytes: Uint8Array): void;
  /** Bytes written but not yet handed to the network (backpressure for bulk senders). */
  bufferedBytes?(): number;
  close(): void;
  onFrame(handler: (bytes: Uint8Array) => void): void;
  onClose(handler: (reason: string) => void): void;
}

export type AuthDecision =
  | { ok: true; deviceId: string; labels?: string[] }
  | { ok: false; code: AipErrorCode; message: string };

export type EnrollDecision =
  | { ok: true; enrolled: Enrolled }
  | { ok: false; code: AipErrorCode; message: string };

export interface AipServerOptions {
  /** Decides whether a Hello may open (or resume) a session. */
  authenticate(hello: Hello, remoteAddress: string): AuthDecision | Promise<AuthDecision>;
  /** Handles an Enroll frame; absent = enrollment disabled. */
  enroll?(enroll: Enroll, remoteAddress: string): EnrollDecision | Promise<EnrollDecision>;
  heartbeatIntervalMs?: number; // default 2000
  leaseMs?: number; // default 3 * heartbeatIntervalMs
  maxFrameBytes?: number; // default 4 MiB
  /** How long a dropped session stays resumable. Default 60 s. */
  sessionRetentionMs?: number;
}

/** Orchestrator side of one device's logical session (survives reconnects). */
export interface ServerSession {
  readonly sessionId: string;
  readonly deviceId: string;
  /** The Hello of the latest connection (capabilities may change on reconnect). */
  readonly hello: Hello;
  readonly connected: boolean;
  /** The version agreed on the latest connection (artifact bodies need 2). */
  readonly protocolVersion: number;
  /** Sends a message; reliable types are sequenced and replayed after resume. */
  send(body: Body): void;
  /** Bytes written to the live connection but not yet sent (0 when none is up). */
  bufferedBytes(): number;
  /** With AipServerConfig.holdAcks: acknowledge everything delivered so far (it is durable now). */
  ackReceived(): void;
  /** Sends a fatal Error frame and ends the session (no resume). */
  terminate(code: AipErrorCode, message: string): void;
  /** Reliable messages from the agent, each delivered once, in order. */
  on(event: 'message', handler: (body: Body) => void): this;
  on(event: 'heartbeat', handler: (hb: Heartbeat) => void): this;
  /** The transport dropped; the session may still resume. */
  on(event: 'disconnect', handler: (reason: string) => void): this;
  /** A new connection resumed this session. */
  on(event: 'resume', handler: () => void): this;
  /** The session is gone for good (goodbye, terminate, retention expired). */
  on(event: 'end', handler: (reason: string) => void): this;
  /** An artifact body (unsequenced, version 2) arrived on the live connection. */
  on(event: 'artifact', handler: (body: Body) => void): this;
}

export interface AipClientOptions {
  /** ws://, wss://, grpc:// or grpcs:// */
  url: string;
  deviceName: string;
  deviceId?: string;
  credential?: string;
  capabilities: Capabilities;
  agentVersion?: string;
  reconnect?: { initialMs?: number; maxMs?: number };
  /** Called for each heartbeat the client sends. */
  heartbeat?: () => Heartbeat;
  /** PEM CA to verify the server with (wss/grpcs). */
  caPem?: string;
}

/** Agent side: one logical session, reconnecting on its own. */
export interface AipClientSession {
  start(): void;
  /** Reliable types are queued while disconnected and replayed after resume. */
  send(body: Body): void;
  /** Bytes written to the live connection but not yet sent (0 when none is up). */
  bufferedBytes?(): number;
  /** Resolves when every reliable message sent so far is acknowledged. */
  flushed(): Promise<void>;
  stop(reason?: string): Promise<void>;
  on(event: 'welcome', handler: (welcome: Welcome) => void): this;
  on(event: 'message', handler: (body: Body) => void): this;
  /** Fired when the orchestrator acknowledged a reliable message we sent. */
  on(event: 'acked', handler: (seq: number, body: Body) => void): this;
  on(event: 'disconnect', handler: (reason: string) => void): this;
  /** A fatal protocol error: the client stops reconnecting. */
  on(event: 'fatal', handler: (code: string, message: string) => void): this;
  /** An artifact body (unsequenced, version 2) arrived on the live connection. */
  on(event: 'artifact', handler: (body: Body) => void): this;
}
