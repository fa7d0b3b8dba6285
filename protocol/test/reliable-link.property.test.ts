// Property: whatever the interleaving of sends, deliveries, acks, connection
// cuts (in-flight frames lost) and resumes, each side delivers the other's
// reliable messages exactly once and in order, and after a final resume
// with full delivery, everything sent is delivered and acknowledged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Body, type Channel, decodeEnvelope, ReliableLink } from '../src/index.js';

type Action = 'sendA' | 'sendB' | 'deliverAB' | 'deliverBA' | 'ackA' | 'ackB' | 'cut' | 'resume' | 'resumeStale';

class Wire implements Channel {
  readonly transport = 'ws' as const;
  readonly remoteAddress = 'memory';
  readonly inFlight: Uint8Array[] = [];
  send(bytes: Uint8Array): void {
    this.inFlight.push(bytes);
  }
  close(): void {}
  onFrame(): void {}
  onClose(): void {}
}

const body = (n: number): Body => ({ type: 'progress', value: { constellationId: 'c', taskId: String(n), attempt: 1, fraction: 0, message: '' } });
const id = (b: Body): number => Number((b.value as { taskId: string }).taskId);

function simulate(actions: Action[]): void {
  const a = new ReliableLink({ maxFrameBytes: 1 << 20, ackDelayMs: 1e9 });
  const b = new ReliableLink({ maxFrameBytes: 1 << 20, ackDelayMs: 1e9 });
  let ab = new Wire(); // frames written by a, in flight to b
  let ba = new Wire();
  a.attach(ab);
  b.attach(ba);
  let connected = true;
  let sentA = 0;
  let sentB = 0;
  const gotByB: number[] = [];
  const gotByA: number[] = [];
  const deliver = (wire: Wire, to: ReliableLink, got: number[]): void => {
    const bytes = wire.inFlight.shift();
    if (!bytes) return;
    const env = decodeEnvelope(bytes);
    if (to.receive(env) === 'deliver') got.push(id(env.body));
  };
  const resume = (stale = false): void => {
    ab = new Wire();
    ba = new Wire();
    a.attach(ab);
    b.attach(ba);
    connected = true;
    // Hello carries a's received, Welcome carries b's: each replays the rest.
    // A stale resume point (0) replays everything still buffered, so the
    // receiver sees duplicates it must drop.
    a.replay(stale ? 0 : b.lastReceived);
    b.replay(stale ? 0 : a.lastReceived);
  };
  for (const action of actions) {
    switch (action) {
      case 'sendA':
        a.send(body(sentA++));
        break;
      case 'sendB':
        b.send(body(sentB++));
        break;
      case 'deliverAB':
        if (connected) deliver(ab, b, gotByB);
        break;
      case 'deliverBA':
        if (connected) deliver(ba, a, gotByA);
        break;
      case 'ackA':
        a.flushAck();
        break;
      case 'ackB':
        b.flushAck();
        break;
      case 'cut':
        ab.inFlight.length = 0;
        ba.inFlight.length = 0;
        a.detach();
        b.detach();
        connected = false;
        break;
      case 'resume':
        if (!connected) resume();
        break;
      case 'resumeStale':
        if (!connected) resume(true);
        break;
    }
    // Safety at every step: exactly once, in order, so far.
    expect(gotByB).toEqual(Array.from({ length: gotByB.length }, (_, i) => i));
    expect(gotByA).toEqual(Array.from({ length: gotByA.length }, (_, i) => i));
  }
  // Liveness: a final resume and full delivery (acks included) completes everything.
  if (!connected) resume();
  for (let round = 0; round < 4; round++) {
    while (ab.inFlight.length > 0 || ba.inFlight.length > 0) {
      deliver(ab, b, gotByB);
      deliver(ba, a, gotByA);
    }
    a.flushAck();
    b.flushAck();
  }
  expect(gotByB).toEqual(Array.from({ length: sentA }, (_, i) => i));
  expect(gotByA).toEqual(Array.from({ length: sentB }, (_, i) => i));
  expect(a.unacked).toBe(0);
  expect(b.unacked).toBe(0);
  a.dispose();
  b.dispose();
}

describe('ReliableLink under arbitrary loss and resumption', () => {
  it('delivers exactly once, in order, and eventually everything', () => {
    const action = fc.constantFrom<Action>('sendA', 'sendB', 'deliverAB', 'deliverBA', 'deliverAB', 'deliverBA', 'ackA', 'ackB', 'cut', 'resume', 'resumeStale');
    fc.assert(
      fc.property(fc.array(action, { maxLength: 150 }), (actions) => simulate(actions)),
      // The example: an ack lost in a cut, then a resume from a stale point (found by this test).
      { numRuns: 300, examples: [[['sendA', 'deliverAB', 'ackB', 'cut', 'resumeStale']]] },
    );
  });
});
