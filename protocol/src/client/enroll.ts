// One-shot enrollment: dial, send Enroll, wait for Enrolled (or an Error),
// close. The agent stores the credential and then runs an AipClient.
import { decodeEnvelope, encodeEnvelope } from '../codec.js';
import type { Channel } from '../contracts.js';
import { ProtocolError } from '../errors.js';
import type { Enroll, Enrolled } from '../messages.js';
import { dialChannel } from '../transport/dial.js';
import { DEFAULT_MAX_FRAME_BYTES, transportLimit } from '../transport/frame-limit.js';

export interface EnrollOptions {
  url: string;
  enroll: Enroll;
  caPem?: string;
  timeoutMs?: number;
}

export async function enrollDevice(options: EnrollOptions): Promise<Enrolled> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const channel: Channel = await dialChannel(options.url, {
    maxPayload: transportLimit(DEFAULT_MAX_FRAME_BYTES),
    connectTimeoutMs: timeoutMs,
    ...(options.caPem ? { caPem: options.caPem } : {}),
  });
  return new Promise<Enrolled>((resolve, reject) => {
    const timer = setTimeout(() => done(new ProtocolError('AIP_HELLO_TIMEOUT', 'no answer to Enroll')), timeoutMs);
    let settled = false;
    function done(result: Enrolled | Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      channel.close();
      if (result instanceof Error) reject(result);
      else resolve(result);
    }
    channel.onFrame((bytes) => {
      try {
        const env = decodeEnvelope(bytes, DEFAULT_MAX_FRAME_BYTES);
        if (env.body.type === 'enrolled') done(env.body.value);
        else if (env.body.type === 'error') done(new ProtocolError(env.body.value.code as never, env.body.value.message));
        else done(new ProtocolError('AIP_OUT_OF_ORDER', `expected enrolled, got ${env.body.type}`));
      } catch (err) {
        done(err as Error);
      }
    });
    channel.onClose((reason) => done(new ProtocolError('AIP_INTERNAL', `connection closed during enrollment: ${reason}`)));
    channel.send(encodeEnvelope({ seq: 0, ack: 0, sentAtMs: Date.now(), body: { type: 'enroll', value: options.enroll } }));
  });
}
