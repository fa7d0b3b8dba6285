// Seq/ack bookkeeping for one logical session, over whichever Channel is
// attached at the moment (see proto/AIP.md "Sequencing and replay").
// - reliable bodies get seq 1, 2, 3...; they stay in the replay buffer until
//   the peer's cumulative ack covers them, and are re-sent on resume;
// - every envelope we write carries our cumulative ack; when we owe an ack
//   and nothing else goes out for ackDelayMs, an ackOnly envelope is sent;
// - incoming seq <= last received is a duplicate (dropped), seq > last + 1 a
//   gap (AIP_OUT_OF_ORDER).
import { encodeEnvelope } from '../codec.js';
import type { Channel } from '../contracts.js';
import { ProtocolError } from '../errors.js';
import { type Body, type Envelope, RELIABLE_TYPES } from '../messages.js';
import { type Outstanding, ReplayBuffer } from './replay-buffer.js';

export interface ReliableLinkOptions {
  ackDelayMs?: number;
  /** Ack at once when this many received messages are unacknowledged. */
  ackEvery?: number;
  maxFrameBytes: number;
  onAcked?: (released: Outstanding[]) => void;
  /**
   * Hold acknowledgements until the application releases them (ackThrough):
   * the orchestrator acks a Result only once it is in its journal.
   */
  holdAcks?: boolean;
}

export type Receipt = 'deliver' | 'duplicate' | 'control';

export class ReliableLink {
  private outSeq = 0;
  private received = 0;
  private ackSent = 0;
  /** With holdAcks: the highest received seq the application has released. */
  private ackLimit = 0;
  private readonly buffer = new ReplayBuffer();
  private channel: Channel | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private readonly ackDelayMs: number;
  private readonly ackEvery: number;
  maxFrameBytes: number;

  constructor(private readonly options: ReliableLinkOptions) {
    this.ackDelayMs = options.ackDelayMs ?? 100;
    this.ackEvery = options.ackEvery ?? 256;
    this.maxFrameBytes = options.maxFrameBytes;
  }

  /** Highest contiguous seq received from the peer. */
  get lastReceived(): number {
    return this.received;
  }

  /** The cumulative ack we may tell the peer: what we received, or with holdAcks what was released. */
  get ackable(): number {
    return this.options.holdAcks ? Math.min(this.received, this.ackLimit) : this.received;
  }

  /** With holdAcks: everything received up to `seq` is safe; acknowledge it. */
  ackThrough(seq: number): void {
    if (seq <= this.ackLimit) return;
    this.ackLimit = Math.min(seq, this.received);
    this.scheduleAck();
  }

  get lastSent(): number {
    return this.outSeq;
  }

  get unacked(): number {
    return this.buffer.size;
  }

  get attached(): boolean {
    return this.channel !== undefined;
  }

  attach(channel: Channel): void {
    this.channel = channel;
  }

  /** Unsent bytes on the attached channel (0 when none). */
  bufferedBytes(): number {
    return this.channel?.bufferedBytes?.() ?? 0;
  }

  detach(): void {
    this.channel = undefined;
    this.clearAckTimer();
  }

  /**
   * Sends a body. Reliable bodies are sequenced and kept for replay even
   * when no channel is attached; others are written only if one is.
   * Returns the seq (0 for unsequenced bodies).
   */
  send(body: Body): number {
    const reliable = RELIABLE_TYPES.has(body.type);
    const seq = reliable ? this.outSeq + 1 : 0;
    const bytes = this.encode(seq, body);
    if (bytes.byteLength > this.maxFrameBytes) {
      throw new ProtocolError(
        'AIP_FRAME_TOO_LARGE',
        `${body.type} of ${bytes.byteLength} bytes exceeds the frame limit of ${this.maxFrameBytes}`,
      );
    }
    if (reliable) {
      this.outSeq = seq;
      this.buffer.push({ seq, body });
    }
    if (this.channel) this.write(bytes);
    return seq;
  }

  /**
   * Applies an incoming envelope's seq and ack. Returns 'deliver' for a new
   * reliable message, 'duplicate' for one already delivered, 'control' for
   * unsequenced bodies. Throws ProtocolError on a gap or a bad ack.
   */
  receive(env: Envelope): Receipt {
    this.applyAck(env.ack);
    const reliable = RELIABLE_TYPES.has(env.body.type);
    if (!reliable) {
      if (env.seq !== 0) {
        throw new ProtocolError('AIP_BAD_FRAME', `${env.body.type} must not carry a seq`);
      }
      return 'control';
    }
    if (env.seq === 0) {
      throw new ProtocolError('AIP_BAD_FRAME', `${env.body.type} must carry a seq`);
    }
    if (env.seq <= this.received) {
      // The peer re-sent what we had: our ack for it was lost (a cut), so ack again.
      this.ackSent = Math.min(this.ackSent, Math.min(env.seq, this.ackable) - 1);
      this.scheduleAck();
      return 'duplicate';
    }
    if (env.seq > this.received + 1) {
      throw new ProtocolError(
        'AIP_OUT_OF_ORDER',
        `expected seq ${this.received + 1}, got ${env.seq}`,
      );
    }
    this.received = env.seq;
    this.scheduleAck();
    return 'deliver';
  }

  /** Applies a cumulative ack from the peer. */
  applyAck(ack: number): void {
    if (ack > this.outSeq) {
      throw new ProtocolError('AIP_BAD_FRAME', `ack ${ack} is beyond the last seq sent (${this.outSeq})`);
    }
    if (this.buffer.size === 0) return;
    const released = this.buffer.release(ack);
    if (released.length > 0) this.options.onAcked?.(released);
  }

  /** After a resume: drop what the peer has, re-send the rest in order. */
  replay(peerAck: number): void {
    this.applyAck(Math.min(peerAck, this.outSeq));
    for (const item of this.buffer.entries()) this.write(this.encode(item.seq, item.body));
  }

  /**
   * The peer started a fresh session: forget what we received, give every
   * unacknowledged body a new seq from 1, and send them again.
   */
  restart(): void {
    const pending = this.buffer.drain();
    this.outSeq = 0;
    this.received = 0;
    this.ackSent = 0;
    this.ackLimit = 0;
    this.clearAckTimer();
    for (const item of pending) {
      this.outSeq++;
      this.buffer.push({ seq: this.outSeq, body: item.body });
    }
    this.replay(0);
  }

  /** Sends an ackOnly now if we owe one. */
  flushAck(): void {
    this.clearAckTimer();
    if (this.channel && this.ackable > this.ackSent) {
      this.write(this.encode(0, { type: 'ackOnly', value: {} }));
    }
  }

  /** Writes an unsequenced envelope that is not subject to the frame limit check. */
  sendControl(body: Body): void {
    if (this.channel) this.write(this.encode(0, body));
  }

  dispose(): void {
    this.detach();
    this.buffer.drain();
  }

  private encode(seq: number, body: Body): Uint8Array {
    return encodeEnvelope({ seq, ack: this.ackable, sentAtMs: Date.now(), body });
  }

  private write(bytes: Uint8Array): void {
    // The ack field was filled from `ackable` at encode time.
    this.ackSent = this.ackable;
    this.channel?.send(bytes);
  }

  private scheduleAck(): void {
    if (this.ackable - this.ackSent >= this.ackEvery) {
      this.flushAck();
      return;
    }
    if (this.ackTimer || !this.channel || this.ackable <= this.ackSent) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.flushAck();
    }, this.ackDelayMs);
    this.ackTimer.unref();
  }

  private clearAckTimer(): void {
    if (this.ackTimer) {
      clearTimeout(this.ackTimer);
      this.ackTimer = undefined;
    }
  }
}
