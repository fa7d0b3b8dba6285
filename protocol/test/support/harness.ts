// Starts an AipServer on one transport (port 0) and dials raw channels, so
// conformance tests can run unchanged against WebSocket and gRPC.
import {
  AipServer,
  type AipServerConfig,
  type Body,
  type BodyMap,
  type BodyType,
  type Capabilities,
  type Channel,
  decodeEnvelope,
  dialChannel,
  type Envelope,
  encodeEnvelope,
  type Hello,
  type TlsServerOptions,
} from '../../src/index.js';
import { until } from './wait.js';

export type Transport = 'ws' | 'grpc';
export const TRANSPORTS: Transport[] = ['ws', 'grpc'];

export interface Harness {
  server: AipServer;
  url: string;
  port: number;
}

export async function startServer(
  transport: Transport,
  config: Partial<AipServerConfig> = {},
  tls?: TlsServerOptions,
): Promise<Harness> {
  const server = new AipServer({
    authenticate: (hello) => ({ ok: true, deviceId: hello.deviceId || hello.deviceName }),
    ...config,
  });
  const port =
    transport === 'ws'
      ? await server.listenWebSocket('127.0.0.1', 0, tls)
      : await server.listenGrpc('127.0.0.1', 0, tls);
  const scheme = transport === 'ws' ? (tls ? 'wss' : 'ws') : tls ? 'grpcs' : 'grpc';
  const url = transport === 'ws' ? `${scheme}://127.0.0.1:${port}/v1/aip` : `${scheme}://127.0.0.1:${port}`;
  return { server, url, port };
}

export function urlFor(transport: Transport, port: number): string {
  return transport === 'ws' ? `ws://127.0.0.1:${port}/v1/aip` : `grpc://127.0.0.1:${port}`;
}

export const capabilities: Capabilities = {
  os: 'linux',
  arch: 'x64',
  labels: ['test'],
  features: [],
  slots: 2,
  cpus: 2,
  memoryMb: 1024,
  gpus: 0,
  executors: ['shell'],
  hostname: 'test-host',
  diskTotalMb: 100_000,
  diskFreeMb: 25_000,
  gpuInfo: [{ name: 'NVIDIA T4', memoryMb: 15_360, driver: '550.54' }],
  resources: { camera: 1, 'vram-gb': 15.5 },
  osVersion: '6.1.0',
};

export function helloBody(deviceId: string, extra: Partial<Hello> = {}): Body {
  return {
    type: 'hello',
    value: {
      protocolVersions: [1],
      deviceId,
      deviceName: deviceId,
      credential: '',
      capabilities,
      resumeSessionId: '',
      resumeAck: 0,
      agentVersion: 'test',
      running: [],
      ...extra,
    },
  };
}

/** A hand-driven connection: send raw bytes or envelopes, collect what comes back. */
export class RawPeer {
  readonly frames: Envelope[] = [];
  closedReason: string | undefined;
  private constructor(readonly channel: Channel) {
    channel.onFrame((bytes) => this.frames.push(decodeEnvelope(bytes)));
    channel.onClose((reason) => {
      this.closedReason = reason;
    });
  }

  static async connect(url: string): Promise<RawPeer> {
    return new RawPeer(await dialChannel(url, { maxPayload: 64 * 1024 * 1024, connectTimeoutMs: 5000 }));
  }

  sendBytes(bytes: Uint8Array): void {
    this.channel.send(bytes);
  }

  send(body: Body, seq = 0, ack = 0): void {
    this.channel.send(encodeEnvelope({ seq, ack, sentAtMs: Date.now(), body }));
  }

  async next<T extends BodyType>(type: T, timeoutMs = 5000): Promise<BodyMap[T]> {
    let found: Envelope | undefined;
    await until(() => {
      found = this.frames.find((f) => f.body.type === type);
      return found !== undefined;
    }, `a ${type} frame`, timeoutMs);
    const env = found as Envelope;
    this.frames.splice(this.frames.indexOf(env), 1);
    return env.body.value as BodyMap[T];
  }

  async closed(timeoutMs = 5000): Promise<string> {
    await until(() => this.closedReason !== undefined, 'the connection to close', timeoutMs);
    return this.closedReason as string;
  }

  close(): void {
    this.channel.close();
  }
}
