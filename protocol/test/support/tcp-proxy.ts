// A loopback TCP proxy for fault injection: cut every connection at once,
// stall traffic (both directions stop flowing, sockets stay open), or delay
// every chunk. Transport-agnostic, so it works for WebSocket and gRPC alike.
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export class TcpProxy {
  private readonly server: net.Server;
  private readonly pairs = new Set<Pair>();
  private stalled = false;
  /** Milliseconds added to every chunk in both directions. */
  delayMs = 0;
  /** Connections accepted so far. */
  accepted = 0;

  /** Where new connections go; change it to fail over to another server. */
  private constructor(public targetPort: number) {
    this.server = net.createServer((client) => this.onClient(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get openConnections(): number {
    return this.pairs.size;
  }

  /** Destroys every open connection, like a network failure (no FIN handshake). */
  cutAll(): void {
    for (const pair of this.pairs) {
      pair.client.resetAndDestroy();
      pair.upstream.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /** Stops (or restarts) forwarding on every connection, present and future. */
  stall(on: boolean): void {
    this.stalled = on;
    for (const { client, upstream } of this.pairs) {
      if (on) {
        client.pause();
        upstream.pause();
      } else {
        client.resume();
        upstream.resume();
      }
    }
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onClient(client: net.Socket): void {
    this.accepted++;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    const teardown = (): void => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    this.pipe(client, upstream);
    this.pipe(upstream, client);
    if (this.stalled) {
      client.pause();
      upstream.pause();
    }
  }

  private pipe(from: net.Socket, to: net.Socket): void {
    from.on('data', (chunk) => {
      if (this.delayMs > 0) {
        // Equal delays fire in creation order, so the stream stays ordered.
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
        }, this.delayMs);
      } else if (!to.destroyed) {
        to.write(chunk);
      }
    });
  }
}
