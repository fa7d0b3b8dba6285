// Dials an AIP WebSocket endpoint (ws:// or wss://).
import WebSocket from 'ws';
import type { Channel } from '../contracts.js';
import { WsChannel } from './ws-channel.js';

export interface DialOptions {
  maxPayload: number;
  caPem?: string;
  connectTimeoutMs: number;
}

export function dialWebSocket(url: string, options: DialOptions): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      maxPayload: options.maxPayload,
      perMessageDeflate: false,
      handshakeTimeout: options.connectTimeoutMs,
      ...(options.caPem ? { ca: options.caPem } : {}),
    });
    const fail = (err: Error): void => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.terminate();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('unexpected-response', (_req, res) => {
      fail(new Error(`unexpected HTTP ${res.statusCode} from ${url}`));
    });
    socket.once('open', () => {
      socket.removeAllListeners('error');
      socket.removeAllListeners('unexpected-response');
      resolve(new WsChannel(socket, url));
    });
  });
}
