// The events the engine journals. Replaying them in order through
// applyEvent() rebuilds exactly the state the engine had: every random or
// time-dependent value (ids, timestamps, backoff delays) is in the event.
import type { EditBatch, GraphSpec } from '../model/types.js';
import type { ArtifactRecord, AttemptOutcome } from '../model/types.js';

export interface EventMap {
  'constellation.submitted': { id: string; owner: string; spec: GraphSpec };
  'constellation.cancelled': { id: string; by: string };
  'constellation.paused': { id: string; by: string };
  'constellation.resumed': { id: string; by: string };
  'edit.applied': { id: string; batch: EditBatch; author: string };
  'task.assigned': { id: string; taskId: string; attempt: number; deviceId: string; placement: string };
  'task.started': { id: string; taskId: string; attempt: number; startedAt: number };
  'task.rejected': { id: string; taskId: string; attempt: number; code: string; reason: string };
  'task.finished': {
    id: string;
    taskId: string;
    attempt: number;
    outcome: AttemptOutcome;
    exitCode?: number;
    error?: string;
    outputs: Record<string, string>;
    /** Stored artifacts of a succeeded attempt (their blobs are durable before this event). */
    artifacts?: Record<string, ArtifactRecord>;
    startedAt?: number;
    endedAt: number;
    /** Random jitter in [0, 1) for the retry backoff, fixed here so replay is exact. */
    jitter: number;
  };
  /** The device holding the attempt was lost or disowned it: run it elsewhere. */
  'task.lost': { id: string; taskId: string; attempt: number; reason: string };
  /** A result for a superseded attempt, kept for the record only. */
  'task.stale_result': { id: string; taskId: string; attempt: number; outcome: string };
}

export type EventType = keyof EventMap;

export interface EngineEvent<T extends EventType = EventType> {
  type: T;
  at: number;
  data: EventMap[T];
}

export type AnyEngineEvent = { [K in EventType]: EngineEvent<K> }[EventType];
