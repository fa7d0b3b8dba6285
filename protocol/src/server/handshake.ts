// The first frames of a connection, before it belongs to a session: Hello
// (or Enroll) within helloTimeoutMs, version negotiation, authentication.
// Frames arriving while authenticate() runs are held and handed over.
import { decodeEnvelope, encodeEnvelope } from '../codec.js';
import type { AipErrorCode, AipServerOptions, Channel } from '../contracts.js';
import { ProtocolError } from '../errors.js';
import type { AipLogger } from '../logger.js';
import type { Enroll, Hello } from '../messages.js';
import { negotiateVersion } from './negotiate.js';
import { errorEnvelope } from './server-session.js';

export interface HandshakeDeps {
  options: AipServerOptions;
  supportedVersions: readonly number[];
  maxFrameBytes: number;
  helloTimeoutMs: number;
  logger: AipLogger;
  /** Called once authenticated; must bind the channel and consume `held`. */
  onAuthenticated(channel: Channel, hello: Hello, deviceId: string, version: number, held: Uint8Array[]): void;
}

const MAX_HELD_FRAMES = 256;

export interface PendingHandshake {
  abort(code: AipErrorCode, message: string): void;
}

export function startHandshake(channel: Channel, deps: HandshakeDeps): PendingHandshake {
  let state: 'waiting' | 'authenticating' | 'done' = 'waiting';
  const held: Uint8Array[] = [];

  const fail = (code: AipErrorCode, message: string): void => {
    if (state === 'done') return;
    state = 'done';
    clearTimeout(timer);
    deps.logger.info({ remote: channel.remoteAddress, code, message }, 'aip handshake refused');
    channel.send(encodeEnvelope(errorEnvelope(code, message, 0)));
    channel.close();
  };

  const timer = setTimeout(
    () => fail('AIP_HELLO_TIMEOUT', `no Hello within ${deps.helloTimeoutMs} ms`),
    deps.helloTimeoutMs,
  );
  timer.unref();

  channel.onClose(() => {
    if (state === 'done') return;
    state = 'done';
    clearTimeout(timer);
  });

  channel.onFrame((bytes) => {
    if (state === 'authenticating') {
      if (held.length >= MAX_HELD_FRAMES) fail('AIP_RATE_LIMITED', 'too many frames before Welcome');
      else held.push(bytes);
      return;
    }
    if (state !== 'waiting') return;
    try {
      const env = decodeEnvelope(bytes, deps.maxFrameBytes);
      if (env.body.type === 'hello') {
        state = 'authenticating';
        void onHello(env.body.value);
      } else if (env.body.type === 'enroll') {
        state = 'authenticating';
        void onEnroll(env.body.value);
      } else {
        throw new ProtocolError('AIP_OUT_OF_ORDER', `first frame must be hello or enroll, got ${env.body.type}`);
      }
    } catch (err) {
      const code = err instanceof ProtocolError ? err.code : 'AIP_INTERNAL';
      fail(code, (err as Error).message);
    }
  });

  async function onHello(hello: Hello): Promise<void> {
    const version = negotiateVersion(hello.protocolVersions, deps.supportedVersions);
    if (version === undefined) {
      fail(
        'AIP_UNSUPPORTED_VERSION',
        `agent speaks [${hello.protocolVersions.join(', ')}], orchestrator speaks [${deps.supportedVersions.join(', ')}]`,
      );
      return;
    }
    try {
      const decision = await deps.options.authenticate(hello, channel.remoteAddress);
      if (state !== 'authenticating') return; // closed or timed out meanwhile
      if (!decision.ok) {
        fail(decision.code, decision.message);
        return;
      }
      state = 'done';
      clearTimeout(timer);
      deps.onAuthenticated(channel, hello, decision.deviceId, version, held);
    } catch (err) {
      deps.logger.error({ err, remote: channel.remoteAddress }, 'aip authenticate threw');
      fail('AIP_INTERNAL', 'authentication failed unexpectedly');
    }
  }

  async function onEnroll(enroll: Enroll): Promise<void> {
    if (!deps.options.enroll) {
      fail('AIP_UNAUTHENTICATED', 'enrollment is disabled on this orchestrator');
      return;
    }
    try {
      const decision = await deps.options.enroll(enroll, channel.remoteAddress);
      if (state !== 'authenticating') return;
      if (!decision.ok) {
        fail(decision.code, decision.message);
        return;
      }
      state = 'done';
      clearTimeout(timer);
      channel.send(
        encodeEnvelope({ seq: 0, ack: 0, sentAtMs: Date.now(), body: { type: 'enrolled', value: decision.enrolled } }),
      );
      channel.close();
    } catch (err) {
      deps.logger.error({ err, remote: channel.remoteAddress }, 'aip enroll threw');
      fail('AIP_INTERNAL', 'enrollment failed unexpectedly');
    }
  }

  return { abort: fail };
}
