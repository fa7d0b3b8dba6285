// The gRPC service `orrery.aip.v1.Aip` (declared in aip.proto). Messages
// travel as raw bytes: the codec, not gRPC, (de)serializes Envelopes, so a
// gRPC message is byte-identical to a WebSocket frame.
import type * as grpc from '@grpc/grpc-js';

export const AIP_CONNECT_PATH = '/orrery.aip.v1.Aip/Connect';

const toBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const identity = (bytes: Buffer): Buffer => bytes;

export const aipServiceDefinition: grpc.ServiceDefinition = {
  connect: {
    path: AIP_CONNECT_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: toBuffer,
    requestDeserialize: identity,
    responseSerialize: toBuffer,
    responseDeserialize: identity,
    originalName: 'Connect',
  },
};

export const rawSerialize = toBuffer;
export const rawDeserialize = identity;
