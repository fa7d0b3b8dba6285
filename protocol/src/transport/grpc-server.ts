// Serves the AIP gRPC service on its own port (gRPC needs HTTP/2, so it does
// not share the orchestrator's HTTP/1.1 server).
import * as grpc from '@grpc/grpc-js';
import type { Channel } from '../contracts.js';
import { GrpcChannel } from './grpc-channel.js';
import { aipServiceDefinition } from './grpc-service.js';

export interface TlsServerOptions {
  certPem: string;
  keyPem: string;
}

export interface GrpcListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function listenGrpc(
  host: string,
  port: number,
  maxMessageBytes: number,
  onChannel: (channel: Channel) => void,
  tls?: TlsServerOptions,
): Promise<GrpcListener> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  server.addService(aipServiceDefinition, {
    connect: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      onChannel(new GrpcChannel(call, call.getPeer()));
    },
  });
  const creds = tls
    ? grpc.ServerCredentials.createSsl(
        null,
        [{ cert_chain: Buffer.from(tls.certPem), private_key: Buffer.from(tls.keyPem) }],
        false,
      )
    : grpc.ServerCredentials.createInsecure();
  const boundPort = await new Promise<number>((resolve, reject) => {
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    server.bindAsync(address, creds, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve) => {
        // Give streams a moment to flush their last frames, then force.
        const timer = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
