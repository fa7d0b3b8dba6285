// holdAcks: the orchestrator acknowledges an agent's message only once the
// application says it is durable (journal committed).
import { describe, expect, it } from 'vitest';
import { type Body, type Channel, decodeEnvelope, ReliableLink } from '../src/index.js';

class Wire implements Channel {
  readonly transport = 'ws' as const;
  readonly remoteAddress = 'memory';
  readonly frames: Uint8Array[] = [];
  send(bytes: Uint8Array): void {
    this.frames.push(bytes);
  }
  close(): void {}
  onFrame(): void {}
  onClose(): void {}
}

const result = (n: number): Body => ({ type: 'progress', value: { constellationId: 'c', taskId: String(n), attempt: 1, fraction: 0, message: '' } });

describe('held acknowledgements', () => {
  it('acks nothing until ackThrough, then exactly what was released', () => {
    const agent = new ReliableLink({ maxFrameBytes: 1 << 20, ackDelayMs: 1e9 });
    const orch = new ReliableLink({ maxFrameBytes: 1 << 20, ackDelayMs: 1e9, holdAcks: true });
    const toOrch = new Wire();
    const toAgent = new Wire();
    agent.attach(toOrch);
    orch.attach(toAgent);
    for (let i = 0; i < 3; i++) agent.send(result(i));
    for (const f of toOrch.frames.splice(0)) expect(orch.receive(decodeEnvelope(f))).toBe('deliver');

    orch.flushAck();
    orch.send(result(99)); // an outgoing message carries the ack field too
    for (const f of toAgent.frames.splice(0)) agent.receive(decodeEnvelope(f));
    expect(agent.unacked).toBe(3);

    orch.ackThrough(2);
    orch.flushAck();
    for (const f of toAgent.frames.splice(0)) agent.receive(decodeEnvelope(f));
    expect(agent.unacked).toBe(1);

    orch.ackThrough(orch.lastReceived);
    orch.flushAck();
    for (const f of toAgent.frames.splice(0)) agent.receive(decodeEnvelope(f));
    expect(agent.unacked).toBe(0);
    agent.dispose();
    orch.dispose();
  });
});
