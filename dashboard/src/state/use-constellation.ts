import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { type Constellation, TERMINAL_TASK_STATUSES, type TaskEvent, type TaskStatus } from '../api/types.js';
import { useHubEvent } from './use-hub.js';

export interface ConstellationHandle {
  data: Constellation | null;
  error: string | null;
  loading: boolean;
  refresh: () => void;
  /** Adopt a constellation returned by a command (edit, cancel, retry...). */
  adopt: (c: Constellation) => void;
}

/** Applies a `task` event to a constellation without touching its structure. */
export function applyTaskEvent(c: Constellation, ev: TaskEvent): Constellation {
  return applyTaskEvents(c, [ev]);
}

/**
 * Applies task events in order with one copy of the task map, so a burst of
 * events costs one update. Unknown tasks are skipped: an edit added them, and
 * its `edit` event triggers a refetch.
 */
export function applyTaskEvents(c: Constellation, events: Iterable<TaskEvent>): Constellation {
  let tasks: Constellation['tasks'] | null = null;
  for (const ev of events) {
    const task = (tasks ?? c.tasks)[ev.taskId];
    if (!task) continue;
    tasks ??= { ...c.tasks };
    tasks[ev.taskId] = {
      ...task,
      status: ev.status,
      attempts: ev.attempts ?? task.attempts,
      outputs: ev.outputs ?? task.outputs,
      // Events carry artifacts once the task succeeded; a retry starts without them.
      artifacts: ev.artifacts ?? (ev.status === 'succeeded' ? task.artifacts : undefined),
      waitingReason: ev.waitingReason,
      progress: ev.progress,
    };
  }
  return tasks ? { ...c, tasks } : c;
}

/** The selected constellation, kept live from SSE `task`, `edit` and `constellation` events. */
const PROGRESS_RANK: Partial<Record<TaskStatus, number>> = { pending: 0, ready: 1, assigned: 2, running: 3 };

function progressOf(t: { status: TaskStatus; attempts: readonly unknown[] }): [number, number] {
  return [t.attempts.length, TERMINAL_TASK_STATUSES.has(t.status) ? 4 : (PROGRESS_RANK[t.status] ?? 0)];
}

/**
 * Whether state `a` is at least as far along as `b`. Within one attempt a task
 * only moves forward, and a retry adds an attempt, so (attempts, rank) orders
 * the states of one revision. Used only where delivery order is unknown.
 */
export function isAtLeastAsFar(
  a: { status: TaskStatus; attempts: readonly unknown[] },
  b: { status: TaskStatus; attempts: readonly unknown[] },
): boolean {
  const [na, ra] = progressOf(a);
  const [nb, rb] = progressOf(b);
  return na > nb || (na === nb && ra >= rb);
}

/**
 * Applies task events that arrived while a fetch was in flight: the fetched
 * state may already include them, or not, so an event only wins when it is at
 * least as far along as what was fetched.
 */
export function mergeBufferedEvents(c: Constellation, events: readonly TaskEvent[]): Constellation {
  let out = c;
  for (const ev of events) {
    const cur = out.tasks[ev.taskId];
    if (cur && isAtLeastAsFar(ev, cur)) out = applyTaskEvent(out, ev);
  }
  return out;
}

/**
 * Takes a constellation returned by a command without losing SSE updates that
 * overtook the answer: a newer revision wins outright; at the same revision each
 * task keeps whichever state is further along.
 */
export function adoptNewer(prev: Constellation | null, next: Constellation): Constellation {
  if (!prev || prev.id !== next.id) return next;
  if (next.revision > prev.revision) {
    // A newer revision wins, except for tasks that live events already moved
    // to a later attempt (the answer was overtaken: attempts only grow).
    let tasks: Constellation['tasks'] | null = null;
    for (const [id, t] of Object.entries(prev.tasks)) {
      const n = next.tasks[id];
      if (n && t.attempts.length > n.attempts.length) {
        tasks ??= { ...next.tasks };
        tasks[id] = t;
      }
    }
    return tasks ? { ...next, tasks } : next;
  }
  if (next.revision < prev.revision) return prev;
  const tasks = { ...next.tasks };
  for (const [id, t] of Object.entries(prev.tasks)) {
    const n = tasks[id];
    if (n && !isAtLeastAsFar(n, t)) tasks[id] = t;
  }
  return { ...next, tasks };
}

/** The selected constellation, kept live from SSE `task`, `edit` and `constellation` events. */
export function useConstellation(id: string | null): ConstellationHandle {
  const [data, setData] = useState<Constellation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const idRef = useRef(id);
  idRef.current = id;
  // Task events seen while a fetch is in flight; merged into its answer.
  const buffered = useRef<TaskEvent[] | null>(null);
  // Live task events are coalesced per task (each carries the task's whole
  // state) and applied once per animation frame: a burst of thousands of
  // events costs one render, and a hidden tab queues at most one per task.
  const queued = useRef(new Map<string, TaskEvent>());
  const frame = useRef<number | null>(null);
  /** Takes the queued live events (and cancels their pending frame). */
  const drainQueue = useCallback((): TaskEvent[] => {
    if (frame.current !== null) cancelAnimationFrame(frame.current);
    frame.current = null;
    const events = [...queued.current.values()];
    queued.current.clear();
    return events;
  }, []);

  // Fetches in flight: events are buffered until the last one answers, so
  // overlapping refreshes (an `edit` and a `constellation` event) lose none.
  const inFlight = useRef(0);
  const refresh = useCallback(() => {
    const want = idRef.current;
    if (!want) return;
    setLoading(true);
    if (inFlight.current++ === 0) buffered.current = [];
    api
      .getConstellation(want)
      .then((c) => {
        if (idRef.current !== want) return; // the user moved on meanwhile
        // Events that arrived during the fetch are in `buffered`; queued ones may
        // predate it. Each wins only where it is at least as far along as the answer.
        const queuedEvents = drainQueue();
        setData(mergeBufferedEvents(c, [...(buffered.current ?? []), ...queuedEvents]));
        setError(null);
      })
      .catch((err: Error) => {
        if (idRef.current === want) setError(err.message);
      })
      .finally(() => {
        if (--inFlight.current === 0) buffered.current = null;
        setLoading(false);
      });
  }, [drainQueue]);

  const adopt = useCallback(
    (c: Constellation) => {
      if (c.id !== idRef.current) return;
      // Apply what is queued first, so an older queued event cannot land on top of the answer.
      const events = drainQueue();
      setData((prev) => adoptNewer(prev ? applyTaskEvents(prev, events) : prev, c));
    },
    [drainQueue],
  );

  useEffect(() => {
    drainQueue();
    setData(null);
    setError(null);
    if (id) refresh();
  }, [id, refresh, drainQueue]);

  useHubEvent('resync', refresh);
  const flush = useCallback(() => {
    const events = drainQueue();
    // SSE delivers in order, so a live event always replaces what is shown.
    setData((prev) => (prev ? applyTaskEvents(prev, events) : prev));
  }, [drainQueue]);
  useEffect(() => () => void drainQueue(), [drainQueue]);
  useHubEvent('task', (ev) => {
    if (ev.constellationId !== idRef.current) return;
    buffered.current?.push(ev);
    queued.current.delete(ev.taskId); // re-insert so the map keeps arrival order
    queued.current.set(ev.taskId, ev);
    frame.current ??= requestAnimationFrame(flush);
  });
  useHubEvent('edit', (ev) => {
    if (ev.constellationId !== idRef.current) return;
    if (!data || ev.revision > data.revision) refresh();
  });
  useHubEvent('constellation', (s) => {
    if (s.id !== idRef.current) return;
    if (data && s.revision > data.revision) {
      refresh();
      return;
    }
    setData((prev) =>
      prev && prev.status !== s.status ? { ...prev, status: s.status, updatedAt: s.updatedAt } : prev,
    );
  });

  return { data, error, loading, refresh, adopt };
}
