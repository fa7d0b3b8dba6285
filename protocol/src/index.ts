export * from './messages.js';
export type * from './contracts.js';
