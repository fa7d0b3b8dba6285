import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  type Body,
  type BodyMap,
  type BodyType,
  decodeEnvelope,
  encodeEnvelope,
  envelopeBodyTypes,
  ProtocolError,
} from '../src/index.js';
import { capabilities } from './support/harness.js';

const ref = { constellationId: 'c1', taskId: 't1', attempt: 3 };

// One sample per body type, with non-default values in every field.
const samples: { [K in BodyType]: BodyMap[K] } = {
  hello: {
    protocolVersions: [1, 2],
    deviceId: 'dev-1',
    deviceName: 'laptop',
    credential: 'secret',
    capabilities,
    resumeSessionId: 'sess-9',
    resumeAck: 42,
    agentVersion: '0.1.0',
    running: [{ ...ref, state: 'running' }],
  },
  welcome: {
    protocolVersion: 1,
    sessionId: 'sess-1',
    deviceId: 'dev-1',
    resumeAck: 7,
    resumed: true,
    heartbeatIntervalMs: 2000,
    leaseMs: 6000,
    maxFrameBytes: 4194304,
  },
  heartbeat: { running: 1, freeSlots: 3, batteryPercent: -1, thermalCelsius: 55, loadAvg: 0.75 },
  assign: {
    ...ref,
    leaseMs: 6000,
    executor: { kind: 'shell', command: 'echo hi', env: { A: '1' }, cwd: '/tmp', argsJson: '{"x":1}' },
    inputs: { in1: 'v1', in2: 'v2' },
    timeoutMs: 30000,
    outputs: [{ name: 'out', source: 'stdout', path: '' }],
    artifactOutputs: [{ name: 'bin', path: 'build/*.apk' }],
    artifactInputs: [{ path: 'in/data.bin', digest: 'ab'.repeat(32), size: 2 ** 33, source: 'make.data' }],
  },
  accept: { ...ref },
  reject: { ...ref, code: 'NO_SLOTS', reason: 'busy' },
  progress: { ...ref, fraction: 0.5, message: 'half' },
  log: { ...ref, stream: 'STDERR', data: new Uint8Array([0, 1, 2, 255]), offset: 4096 },
  result: {
    ...ref,
    outcome: 'TIMED_OUT',
    exitCode: -1,
    signal: 'SIGKILL',
    outputs: { out: 'x' },
    error: 'too slow',
    startedAtMs: 1_700_000_000_000,
    endedAtMs: 1_700_000_001_000,
    stdoutBytes: 10,
    stderrBytes: 2 ** 40,
    artifacts: [{ name: 'data', digest: 'cd'.repeat(32), size: 12 }],
  },
  cancel: { ...ref, reason: 'user' },
  leaseRenewal: { ...ref, leaseMs: 9000 },
  drain: { reason: 'maintenance' },
  goodbye: { reason: 'bye' },
  error: { code: 'AIP_BAD_FRAME', message: 'nope', fatal: true },
  ackOnly: {},
  enroll: { token: 'tok', deviceName: 'phone', capabilities },
  enrolled: { deviceId: 'dev-2', credential: 'cred', labels: ['a', 'b'] },
  taskReport: { ...ref, state: 'finished' },
  artifactOffer: { digest: 'ef'.repeat(32), size: 2 ** 35, name: 'data', ...ref },
  artifactRequest: { digest: 'ef'.repeat(32), offset: 2 ** 34, window: 2 * 1024 * 1024, round: 3 },
  artifactChunk: {
    digest: 'ef'.repeat(32),
    offset: 262144,
    data: new Uint8Array([9, 8, 7]),
    chunkSha256: new Uint8Array(32).fill(1),
    size: 2 ** 35,
    round: 3,
  },
  artifactStatus: { digest: 'ef'.repeat(32), code: 'ARTIFACT_INTEGRITY', message: 'damaged' },
};

function normalise(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

describe('codec', () => {
  it('has a sample for every body type in aip.proto', () => {
    expect([...envelopeBodyTypes()].sort()).toEqual(Object.keys(samples).sort());
  });

  for (const type of Object.keys(samples) as BodyType[]) {
    it(`round-trips ${type}`, () => {
      const body = { type, value: samples[type] } as Body;
      const bytes = encodeEnvelope({ seq: 17, ack: 9, sentAtMs: 1_700_000_000_123, body });
      const env = decodeEnvelope(bytes, 1 << 20);
      expect(env.seq).toBe(17);
      expect(env.ack).toBe(9);
      expect(env.sentAtMs).toBe(1_700_000_000_123);
      expect(env.body.type).toBe(type);
      expect(normalise(env.body.value)).toEqual(normalise(samples[type]));
    });
  }

  it('fills defaults, including nested messages', () => {
    const bytes = encodeEnvelope({
      seq: 0,
      ack: 0,
      sentAtMs: 0,
      body: { type: 'assign', value: { taskId: 't' } as BodyMap['assign'] },
    });
    const env = decodeEnvelope(bytes);
    expect(env.body).toEqual({
      type: 'assign',
      value: {
        constellationId: '',
        taskId: 't',
        attempt: 0,
        leaseMs: 0,
        executor: { kind: '', command: '', env: {}, cwd: '', argsJson: '' },
        inputs: {},
        timeoutMs: 0,
        outputs: [],
        artifactOutputs: [],
        artifactInputs: [],
      },
    });
  });

  it('maps enums to names and longs to numbers', () => {
    const env = decodeEnvelope(
      encodeEnvelope({ seq: 2 ** 40, ack: 0, sentAtMs: 0, body: { type: 'log', value: samples.log } }),
    );
    expect(env.seq).toBe(2 ** 40);
    expect(env.body.type === 'log' && env.body.value.stream).toBe('STDERR');
  });

  it('rejects oversized frames with AIP_FRAME_TOO_LARGE', () => {
    const bytes = encodeEnvelope({ seq: 1, ack: 0, sentAtMs: 0, body: { type: 'goodbye', value: { reason: 'x'.repeat(200) } } });
    expect(() => decodeEnvelope(bytes, 100)).toThrowError(expect.objectContaining({ code: 'AIP_FRAME_TOO_LARGE' }));
  });

  it('rejects garbage with AIP_BAD_FRAME', () => {
    const err = catchError(() => decodeEnvelope(new Uint8Array([0xff, 0xff, 0xff, 0xff])));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('AIP_BAD_FRAME');
  });

  it('rejects envelopes without a known body with AIP_UNKNOWN_MESSAGE', () => {
    // Field 99 (a body from some future version) and the empty frame.
    const future = protobuf.Writer.create().uint32((99 << 3) | 0).uint32(1).finish();
    expect(catchError(() => decodeEnvelope(future))).toMatchObject({ code: 'AIP_UNKNOWN_MESSAGE' });
    expect(catchError(() => decodeEnvelope(new Uint8Array(0)))).toMatchObject({ code: 'AIP_UNKNOWN_MESSAGE' });
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}
