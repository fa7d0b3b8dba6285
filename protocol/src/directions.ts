// Which side may send which body (proto/AIP.md "Messages"). A body arriving
// from the wrong side is a protocol error, so neither end has to guard
// against, say, an agent sending Assign.
import type { BodyType } from './messages.js';

export const AGENT_SENDS: ReadonlySet<BodyType> = new Set<BodyType>([
  'hello',
  'enroll',
  'heartbeat',
  'accept',
  'reject',
  'progress',
  'log',
  'result',
  'taskReport',
  'goodbye',
  'error',
  'ackOnly',
  'artifactOffer',
  'artifactRequest',
  'artifactChunk',
  'artifactStatus',
]);

export const ORCHESTRATOR_SENDS: ReadonlySet<BodyType> = new Set<BodyType>([
  'welcome',
  'enrolled',
  'assign',
  'cancel',
  'leaseRenewal',
  'drain',
  'goodbye',
  'error',
  'ackOnly',
  'artifactRequest',
  'artifactChunk',
  'artifactStatus',
]);
