// The orchestrator's in-memory state and the one function that changes it:
// applyEvent(). The live engine and journal replay both go through it, so a
// restarted orchestrator rebuilds exactly what it had.
import {
  applyEdit,
  assignTask,
  cancelConstellation,
  completeTask,
  createConstellation,
  pauseConstellation,
  resumeConstellation,
  startTask,
  type TransitionResult,
} from '../model/index.js';
import type { Constellation, EditRecord, TaskChange } from '../model/types.js';
import type { AnyEngineEvent } from './journal-events.js';

export interface Applied {
  /** The constellation the event touched (undefined: event was a no-op). */
  constellation?: Constellation;
  changes: TaskChange[];
  statusChanged: boolean;
  /** Why the event changed nothing (stale attempt, invalid transition). */
  rejected?: { code: string; message: string; stale?: boolean; operationIndex?: number };
}

export interface SerializedState {
  version: 1;
  constellations: Constellation[];
  history: Record<string, EditRecord[]>;
}

export class EngineState {
  readonly constellations = new Map<string, Constellation>();
  readonly history = new Map<string, EditRecord[]>();

  applyEvent(event: AnyEngineEvent): Applied {
    const now = event.at;
    switch (event.type) {
      case 'constellation.submitted': {
        const d = event.data;
        const c = createConstellation(d.spec, { id: d.id, owner: d.owner, now });
        this.constellations.set(c.id, c);
        this.history.set(c.id, []);
        const changes: TaskChange[] = Object.values(c.tasks).map((t) => ({ taskId: t.spec.id, from: null, to: t.status }));
        return { constellation: c, changes, statusChanged: true };
      }
      case 'constellation.cancelled':
        return this.transition(event.data.id, (c) => cancelConstellation(c, now, `cancelled by ${event.data.by}`));
      case 'constellation.paused':
        return this.transition(event.data.id, (c) => pauseConstellation(c, now));
      case 'constellation.resumed':
        return this.transition(event.data.id, (c) => resumeConstellation(c, now));
      case 'edit.applied': {
        const c = this.constellations.get(event.data.id);
        if (!c) return { changes: [], statusChanged: false, rejected: { code: 'NOT_FOUND', message: 'no such constellation' } };
        const statusBefore = c.status;
        const r = applyEdit(c, event.data.batch, now);
        if (!r.ok) return { constellation: c, changes: [], statusChanged: false, rejected: r.error };
        this.history.get(c.id)?.push({ ...r.record, author: event.data.author });
        return { constellation: c, changes: r.changes, statusChanged: c.status !== statusBefore };
      }
      case 'task.assigned': {
        const d = event.data;
        return this.transition(d.id, (c) => assignTask(c, d.taskId, { deviceId: d.deviceId, now, placement: d.placement }));
      }
      case 'task.started': {
        const d = event.data;
        return this.transition(d.id, (c) => startTask(c, d.taskId, d.attempt, d.startedAt));
      }
      case 'task.rejected': {
        const d = event.data;
        // A refusal is not a failure of the task: run it elsewhere, no retry used.
        return this.transition(d.id, (c) =>
          completeTask(c, d.taskId, d.attempt, { outcome: 'lost', error: `rejected: ${d.code} ${d.reason}` }, now),
        );
      }
      case 'task.finished': {
        const d = event.data;
        return this.transition(d.id, (c) => {
          const r = completeTask(
            c,
            d.taskId,
            d.attempt,
            {
              outcome: d.outcome,
              outputs: d.outputs,
              ...(d.exitCode !== undefined ? { exitCode: d.exitCode } : {}),
              ...(d.error ? { error: d.error } : {}),
            },
            now,
            { jitter: d.jitter },
          );
          // The agent's clock is the better source for when the process started.
          const attempt = c.tasks[d.taskId]?.attempts.find((a) => a.number === d.attempt);
          if (r.ok && attempt && d.startedAt) attempt.startedAt = attempt.startedAt ?? d.startedAt;
          const t = c.tasks[d.taskId];
          if (r.ok && t && d.outcome === 'succeeded' && d.artifacts) c.tasks[d.taskId] = { ...t, artifacts: d.artifacts };
          return r;
        });
      }
      case 'task.lost': {
        const d = event.data;
        return this.transition(d.id, (c) => completeTask(c, d.taskId, d.attempt, { outcome: 'lost', error: d.reason }, now));
      }
      case 'task.stale_result': {
        // Kept on the attempt for the record; the task's state does not change.
        const d = event.data;
        const c = this.constellations.get(d.id);
        const t = c?.tasks[d.taskId];
        if (!c || !t || !t.attempts.some((a) => a.number === d.attempt)) return { changes: [], statusChanged: false };
        const attempts = t.attempts.map((a) => (a.number === d.attempt ? { ...a, lateOutcome: d.outcome } : a));
        c.tasks[d.taskId] = { ...t, attempts };
        return { constellation: c, changes: [], statusChanged: false };
      }
    }
  }

  private transition(id: string, fn: (c: Constellation) => TransitionResult): Applied {
    const c = this.constellations.get(id);
    if (!c) return { changes: [], statusChanged: false, rejected: { code: 'NOT_FOUND', message: `no constellation ${id}` } };
    const r = fn(c);
    if (!r.ok) return { constellation: c, changes: [], statusChanged: false, rejected: { code: r.code, message: r.message, stale: r.stale } };
    return { constellation: c, changes: r.changes, statusChanged: r.status !== undefined };
  }

  serialize(): SerializedState {
    return { version: 1, constellations: [...this.constellations.values()], history: Object.fromEntries(this.history) };
  }

  static restore(data: SerializedState): EngineState {
    const s = new EngineState();
    for (const c of data.constellations) s.constellations.set(c.id, c);
    for (const [id, h] of Object.entries(data.history)) s.history.set(id, h);
    return s;
  }
}
