// The pure parts of the session layer: seq/ack bookkeeping, version
// negotiation, backoff. The link runs over an in-memory Channel.
import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  type Body,
  type Channel,
  decodeEnvelope,
  type Envelope,
  negotiateVersion,
  ReliableLink,
} from '../src/index.js';

class MemoryChannel implements Channel {
  readonly transport = 'ws' as const;
  readonly remoteAddress = 'memory';
  readonly sent: Envelope[] = [];
  send(bytes: Uint8Array): void {
    this.sent.push(decodeEnvelope(bytes));
  }
  close(): void {}
  onFrame(): void {}
  onClose(): void {}
}

const progress = (n: number): Body => ({
  type: 'progress',
  value: { constellationId: 'c', taskId: `t${n}`, attempt: 1, fraction: n / 10, message: '' },
});
const env = (seq: number, ack: number, body: Body): Envelope => ({ seq, ack, sentAtMs: 0, body });

describe('ReliableLink', () => {
  it('sequences reliable bodies, keeps them until acked, and replays the rest', () => {
    const released: number[] = [];
    const link = new ReliableLink({ maxFrameBytes: 1 << 20, onAcked: (r) => released.push(...r.map((x) => x.seq)) });
    const ch = new MemoryChannel();
    link.attach(ch);
    expect(link.send(progress(1))).toBe(1);
    expect(link.send(progress(2))).toBe(2);
    expect(link.send({ type: 'heartbeat', value: { running: 0, freeSlots: 0, batteryPercent: -1, thermalCelsius: -1, loadAvg: 0 } })).toBe(0);
    expect(link.unacked).toBe(2);
    link.detach();
    link.send(progress(3)); // queued while detached
    expect(ch.sent.map((e) => e.seq)).toEqual([1, 2, 0]);
    link.receive(env(0, 1, { type: 'ackOnly', value: {} }));
    expect(released).toEqual([1]);
    const ch2 = new MemoryChannel();
    link.attach(ch2);
    link.replay(1);
    expect(ch2.sent.map((e) => e.seq)).toEqual([2, 3]);
  });

  it('delivers each seq once, drops duplicates, refuses gaps', () => {
    const link = new ReliableLink({ maxFrameBytes: 1 << 20 });
    expect(link.receive(env(1, 0, progress(1)))).toBe('deliver');
    expect(link.receive(env(1, 0, progress(1)))).toBe('duplicate');
    expect(link.receive(env(2, 0, progress(2)))).toBe('deliver');
    expect(() => link.receive(env(4, 0, progress(4)))).toThrowError(expect.objectContaining({ code: 'AIP_OUT_OF_ORDER' }));
    expect(() => link.receive(env(0, 0, progress(5)))).toThrowError(expect.objectContaining({ code: 'AIP_BAD_FRAME' }));
    expect(() => link.receive(env(0, 7, { type: 'ackOnly', value: {} }))).toThrowError(
      expect.objectContaining({ code: 'AIP_BAD_FRAME' }),
    );
    expect(link.lastReceived).toBe(2);
  });

  it('piggybacks acks and sends a standalone ack when it owes one', async () => {
    const link = new ReliableLink({ maxFrameBytes: 1 << 20, ackDelayMs: 5 });
    const ch = new MemoryChannel();
    link.attach(ch);
    link.receive(env(1, 0, progress(1)));
    link.send(progress(9));
    expect(ch.sent[0]?.ack).toBe(1); // piggybacked
    link.receive(env(2, 0, progress(2)));
    await new Promise((r) => setTimeout(r, 50));
    expect(ch.sent.at(-1)).toMatchObject({ seq: 0, ack: 2, body: { type: 'ackOnly' } });
    expect(ch.sent).toHaveLength(2);
  });

  it('renumbers unacknowledged bodies from 1 when the peer lost the session', () => {
    const link = new ReliableLink({ maxFrameBytes: 1 << 20 });
    for (let i = 1; i <= 5; i++) link.send(progress(i));
    link.receive(env(1, 2, progress(1)));
    const ch = new MemoryChannel();
    link.attach(ch);
    link.restart();
    expect(ch.sent.map((e) => [e.seq, (e.body.value as { taskId: string }).taskId])).toEqual([
      [1, 't3'],
      [2, 't4'],
      [3, 't5'],
    ]);
    expect(link.lastReceived).toBe(0);
  });

  it('refuses bodies above the frame limit without queueing them', () => {
    const link = new ReliableLink({ maxFrameBytes: 100 });
    expect(() => link.send({ type: 'goodbye', value: { reason: 'x'.repeat(200) } })).toThrowError(
      expect.objectContaining({ code: 'AIP_FRAME_TOO_LARGE' }),
    );
    expect(link.unacked).toBe(0);
  });
});

describe('negotiateVersion', () => {
  it('picks the highest common version', () => {
    expect(negotiateVersion([1, 2, 3], [1, 2])).toBe(2);
    expect(negotiateVersion([3, 1], [1, 3])).toBe(3);
    expect(negotiateVersion([4], [1, 2])).toBeUndefined();
    expect(negotiateVersion([], [1])).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('is full jitter below an exponential, capped ceiling', () => {
    expect(backoffDelay(0, 100, 1000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 0.999)).toBe(999);
    expect(backoffDelay(1000, 100, 1000, () => 0)).toBe(0);
  });
});
