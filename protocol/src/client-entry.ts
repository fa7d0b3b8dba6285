// `@orrery/protocol/client`: what a device agent needs, without the server
// side (AipServer, listeners) and without gRPC unless a grpc:// URL is dialled.
// Keeps an agent's idle memory down on small devices.
export * from './messages.js';
export type * from './contracts.js';
export { decodeEnvelope, encodeEnvelope } from './codec.js';
export { isProtocolError, ProtocolError, TERMINAL_ERROR_CODES } from './errors.js';
export { type AipLogger, silentLogger } from './logger.js';
export { AipClient, type AipClientConfig } from './client/aip-client.js';
export { enrollDevice, type EnrollOptions } from './client/enroll.js';
export { backoffDelay } from './client/backoff.js';
export * from './artifacts/index.js';
