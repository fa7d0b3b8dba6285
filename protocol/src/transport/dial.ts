// Picks the transport from the URL scheme.
import type { Channel } from '../contracts.js';
import { ProtocolError } from '../errors.js';
import { type DialOptions, dialWebSocket } from './ws-client.js';

export type { DialOptions };

export function dialChannel(url: string, options: DialOptions): Promise<Channel> {
  const scheme = new URL(url).protocol;
  switch (scheme) {
    case 'ws:':
    case 'wss:':
      return dialWebSocket(url, options);
    case 'grpc:':
    case 'grpcs:':
      // Loaded on first use: @grpc/grpc-js costs memory an agent on ws:// never needs.
      return import('./grpc-client.js').then(({ dialGrpc }) => dialGrpc(url, options));
    default:
      return Promise.reject(new ProtocolError('AIP_INTERNAL', `unsupported AIP URL scheme "${scheme}"`));
  }
}
