import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import type { Constellation, TaskEvent } from '../api/types.js';
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
  const task = c.tasks[ev.taskId];
  if (!task) return c; // unknown task: an edit added it; the `edit` event triggers a refetch
  return {
    ...c,
    tasks: {
      ...c.tasks,
      [ev.taskId]: {
        ...task,
        status: ev.status,
        attempts: ev.attempts ?? task.attempts,
        outputs: ev.outputs ?? task.outputs,
        waitingReason: ev.waitingReason,
        progress: ev.progress,
      },
    },
  };
}

/** The selected constellation, kept live from SSE `task`, `edit` and `constellation` events. */
export function useConstellation(id: string | null): ConstellationHandle {
  const [data, setData] = useState<Constellation | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const idRef = useRef(id);
  idRef.current = id;

  const refresh = useCallback(() => {
    const want = idRef.current;
    if (!want) return;
    setLoading(true);
    api
      .getConstellation(want)
      .then((c) => {
        if (idRef.current !== want) return; // the user moved on meanwhile
        setData(c);
        setError(null);
      })
      .catch((err: Error) => {
        if (idRef.current === want) setError(err.message);
      })
      .finally(() => setLoading(false));
  }, []);

  const adopt = useCallback((c: Constellation) => {
    if (c.id !== idRef.current) return;
    setData((prev) => (prev && prev.revision > c.revision ? prev : c));
  }, []);

  useEffect(() => {
    setData(null);
    setError(null);
    if (id) refresh();
  }, [id, refresh]);

  useHubEvent('resync', refresh);
  useHubEvent('task', (ev) => {
    if (ev.constellationId !== idRef.current) return;
    setData((prev) => (prev ? applyTaskEvent(prev, ev) : prev));
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
