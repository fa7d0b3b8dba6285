// Deterministic keys for attempts and for durable messages. The outbox key of
// a message is derived from its content, so the session's 'acked' event (which
// hands back the body) maps to the outbox entry without extra bookkeeping.
import type { Body, TaskRef } from '@orrery/protocol/client';

export function attemptKey(ref: TaskRef): string {
  return `${ref.constellationId}/${ref.taskId}/${ref.attempt}`;
}

export function resultKey(ref: TaskRef): string {
  return `result/${attemptKey(ref)}`;
}

/** The outbox key of a durable message, or undefined for kinds never kept in the outbox. */
export function outboxKeyOf(body: Body): string | undefined {
  if (body.type === 'result') return resultKey(body.value);
  if (body.type === 'log' && body.value.stream === 'SYSTEM') {
    return `log/${attemptKey(body.value)}/SYSTEM/${body.value.offset}`;
  }
  return undefined;
}
