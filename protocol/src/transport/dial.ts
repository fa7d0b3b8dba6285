// Picks the transport from the URL scheme.
import type { Channel } from '../contracts.js';
import { ProtocolError } from '../errors.js';
import { dialGrpc } from './grpc-client.js';
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
      return dialGrpc(url, options);
    default:
      return Promise.reject(new ProtocolError('AIP_INTERNAL', `unsupported AIP URL scheme "${scheme}"`));
  }
}
