// Channel over one WebSocket: each Envelope is one binary message.
import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import type { Channel } from '../contracts.js';

export class WsChannel implements Channel {
  readonly transport = 'ws' as const;
  private frameHandler: ((bytes: Uint8Array) => void) | undefined;
  private closeHandler: ((reason: string) => void) | undefined;
  private closedReason: string | undefined;
  private corked: Socket | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly remoteAddress: string,
  ) {
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data) => {
      if (this.closedReason !== undefined) return;
      // Text frames are passed through as bytes too: the codec rejects them.
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      this.frameHandler?.(bytes);
    });
    socket.on('close', (code, reason) => {
      this.finish(`ws closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ''})`);
    });
    socket.on('error', (err) => {
      this.finish(`ws error: ${err.message}`);
      socket.terminate();
    });
  }

  send(envelopeBytes: Uint8Array): void {
    if (this.closedReason !== undefined) return;
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.cork();
    this.socket.send(envelopeBytes, { binary: true });
  }

  bufferedBytes(): number {
    // ws counts both its own queue and the TCP socket's unflushed writes.
    return this.socket.bufferedAmount;
  }

  /**
   * Batches every frame sent in this tick into one write (one syscall, one
   * TCP segment when small) by corking the TCP socket until the next tick.
   * A replay or a burst of assigns then costs one write, not thousands.
   */
  private cork(): void {
    if (this.corked) return;
    const raw = (this.socket as unknown as { _socket?: Socket })._socket;
    if (!raw || typeof raw.cork !== 'function') return;
    this.corked = raw;
    raw.cork();
    process.nextTick(() => this.uncork());
  }

  private uncork(): void {
    const raw = this.corked;
    if (!raw) return;
    this.corked = undefined;
    raw.uncork();
  }

  close(): void {
    if (this.closedReason !== undefined) return;
    // Frames sent this tick (e.g. a fatal Error) go out before the close.
    this.uncork();
    // A normal close handshake flushes frames already queued (e.g. a fatal
    // Error); the timer bounds how long a silent peer can hold the socket.
    this.socket.close(1000);
    const timer = setTimeout(() => this.socket.terminate(), 2000);
    timer.unref();
    this.finish('closed locally');
  }

  /** Drops the socket without a close handshake (tests, dead peers). */
  destroy(): void {
    this.socket.terminate();
    this.finish('destroyed locally');
  }

  onFrame(handler: (bytes: Uint8Array) => void): void {
    this.frameHandler = handler;
  }

  onClose(handler: (reason: string) => void): void {
    this.closeHandler = handler;
    if (this.closedReason !== undefined) handler(this.closedReason);
  }

  private finish(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.frameHandler = undefined;
    this.closeHandler?.(reason);
  }
}
