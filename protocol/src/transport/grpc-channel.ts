// Channel over one gRPC bidi stream, either end. A local close half-closes
// our side (server: ends the call with OK status after queued writes, client:
// ends its request stream, then cancels if the server does not finish).
import type * as grpc from '@grpc/grpc-js';
import type { Channel } from '../contracts.js';

type DuplexCall = grpc.ServerDuplexStream<Buffer, Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>;

export class GrpcChannel implements Channel {
  readonly transport = 'grpc' as const;
  private frameHandler: ((bytes: Uint8Array) => void) | undefined;
  private closeHandler: ((reason: string) => void) | undefined;
  private closedReason: string | undefined;
  private backlog: Uint8Array[] = [];
  private backlogHead = 0;
  private backlogBytes = 0;
  private draining = false;

  constructor(
    private readonly call: DuplexCall,
    readonly remoteAddress: string,
    private readonly onFinished: () => void = () => {},
  ) {
    call.on('data', (bytes: Buffer) => {
      if (this.closedReason === undefined) this.frameHandler?.(bytes);
    });
    call.on('end', () => {
      // The peer half-closed: this connection is over for AIP purposes.
      this.finish('grpc stream ended by peer');
      this.endLocal();
    });
    call.on('error', (err: Error) => this.finish(`grpc error: ${err.message}`));
    call.on('close', () => this.finish('grpc stream closed'));
    call.on('cancelled', () => this.finish('grpc stream cancelled'));
  }

  send(envelopeBytes: Uint8Array): void {
    if (this.closedReason !== undefined) return;
    if (this.draining) {
      this.backlog.push(envelopeBytes);
      this.backlogBytes += envelopeBytes.byteLength;
      return;
    }
    if (!this.call.write(envelopeBytes as Buffer)) this.waitForDrain();
  }

  /**
   * Honour the stream's backpressure: grpc-js keeps every message written but
   * not yet sent in a buffer that it re-slices per message (quadratic under a
   * burst), so frames wait here, in a plain queue, until the stream drains.
   */
  private waitForDrain(): void {
    if (this.draining) return;
    this.draining = true;
    this.call.once('drain', () => {
      this.draining = false;
      this.flushBacklog();
    });
  }

  private flushBacklog(): void {
    while (this.backlogHead < this.backlog.length && this.closedReason === undefined) {
      const frame = this.backlog[this.backlogHead++] as Buffer;
      this.backlogBytes -= frame.byteLength;
      const ok = this.call.write(frame);
      if (!ok) break;
    }
    if (this.backlogHead >= this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    } else if (this.backlogHead > 4096) {
      this.backlog = this.backlog.slice(this.backlogHead);
      this.backlogHead = 0;
    }
    if (this.backlog.length > 0 && this.closedReason === undefined) this.waitForDrain();
  }

  bufferedBytes(): number {
    // Frames waiting here for 'drain', plus what grpc-js buffered but has not sent.
    return this.backlogBytes + this.call.writableLength;
  }

  close(): void {
    if (this.closedReason !== undefined) return;
    this.finish('closed locally');
    this.endLocal();
    if ('cancel' in this.call) {
      const call = this.call;
      const timer = setTimeout(() => call.cancel(), 2000);
      timer.unref();
    }
  }

  /** Drops the stream without flushing (tests, dead peers). */
  destroy(): void {
    if ('cancel' in this.call) this.call.cancel();
    else this.call.destroy();
    this.finish('destroyed locally');
  }

  onFrame(handler: (bytes: Uint8Array) => void): void {
    this.frameHandler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
    if (this.closedReason !== undefined) handler(this.closedReason);
  }

  private endLocal(): void {
    try {
      this.call.end();
    } catch {
      // already ended
    }
  }

  private finish(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.frameHandler = undefined;
    this.onFinished();
    this.closeHandler?.(reason);
  }
}
