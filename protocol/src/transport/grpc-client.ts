// Dials an AIP gRPC endpoint (grpc:// or grpcs://). Each dial owns its own
// gRPC channel and subchannel, so a reconnect is a fresh TCP connection.
import * as grpc from '@grpc/grpc-js';
import type { Channel } from '../contracts.js';
import { GrpcChannel } from './grpc-channel.js';
import { AIP_CONNECT_PATH, rawDeserialize, rawSerialize } from './grpc-service.js';
import type { DialOptions } from './ws-client.js';

export function dialGrpc(url: string, options: DialOptions): Promise<Channel> {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'grpcs:';
  const target = `${parsed.hostname}:${parsed.port || (secure ? '443' : '80')}`;
  const creds = secure
    ? grpc.credentials.createSsl(options.caPem ? Buffer.from(options.caPem) : null)
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(target, creds, {
    'grpc.max_receive_message_length': options.maxPayload,
    'grpc.max_send_message_length': -1,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
    // AIP replays on its own. A zero retry buffer also makes grpc-js report
    // backpressure truthfully (write() completes when the message is sent,
    // not when it is buffered for a retry that never comes).
    'grpc.per_rpc_retry_buffer_size': 0,
    'grpc.retry_buffer_size': 0,
  });
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + options.connectTimeoutMs;
    const channel = client.getChannel();
    const fail = (why: string): void => {
      client.close();
      reject(new Error(`grpc connect to ${target} failed: ${why}`));
    };
    // Follow the connectivity state ourselves rather than waitForReady():
    // that one keeps retrying through TRANSIENT_FAILURE until the deadline,
    // and reconnect pacing belongs to the AIP client's backoff.
    const step = (): void => {
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) {
        const call = client.makeBidiStreamRequest<Buffer, Buffer>(AIP_CONNECT_PATH, rawSerialize, rawDeserialize);
        resolve(new GrpcChannel(call, url, () => client.close()));
        return;
      }
      if (state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) {
        fail(grpc.connectivityState[state]);
        return;
      }
      channel.watchConnectivityState(state, deadline, (err) => (err ? fail('timeout') : step()));
    };
    step();
  });
}
