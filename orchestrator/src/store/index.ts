export * from './data-dir-lock.js';
export * from './errors.js';
export * from './migrations.js';
export * from './secrets.js';
export * from './sqlite-store.js';
export type * from './store.js';
export { DEFAULT_LOG_CAP_BYTES } from './sqlite-logs.js';
export { API_TOKEN_PREFIX, ENROLLMENT_TOKEN_PREFIX } from './sqlite-tokens.js';
