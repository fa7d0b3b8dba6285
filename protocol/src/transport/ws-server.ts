// Accepts AIP WebSocket connections on an existing http(s).Server, on one
// path only, so the orchestrator can serve its HTTP API and other WebSocket
// endpoints from the same port.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Channel } from '../contracts.js';
import { WsChannel } from './ws-channel.js';

export interface WsListener {
  close(): void;
}

export function attachWsListener(
  server: http.Server,
  path: string,
  maxPayload: number,
  onChannel: (channel: Channel) => void,
): WsListener {
  const wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    // Other paths belong to other upgrade listeners on the same server.
    if (pathname !== path) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
      onChannel(new WsChannel(ws, remote));
    });
  };
  server.on('upgrade', onUpgrade);
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
