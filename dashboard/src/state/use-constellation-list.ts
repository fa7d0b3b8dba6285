import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client.js';
import type { ConstellationSummary } from '../api/types.js';
import { useHubEvent } from './use-hub.js';

export interface ConstellationList {
  items: ConstellationSummary[];
  error: string | null;
  refresh: () => void;
  /** Inserts or replaces one summary (after a submit, before its event arrives). */
  upsert: (summary: ConstellationSummary) => void;
}

function newestFirst(a: ConstellationSummary, b: ConstellationSummary): number {
  return b.createdAt - a.createdAt || b.id.localeCompare(a.id);
}

export function useConstellationList(): ConstellationList {
  const [items, setItems] = useState<ConstellationSummary[]>([]);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api
      .listConstellations()
      .then((res) => {
        setItems([...res.items].sort(newestFirst));
        setError(null);
      })
      .catch((err: Error) => setError(err.message));
  }, []);

  const upsert = useCallback((summary: ConstellationSummary) => {
    setItems((prev) => {
      const i = prev.findIndex((c) => c.id === summary.id);
      // Events may arrive out of order with a fetch; never go back in revision.
      if (i >= 0 && (prev[i]?.revision ?? 0) > summary.revision) return prev;
      const next = i >= 0 ? prev.map((c, j) => (j === i ? summary : c)) : [...prev, summary];
      return next.sort(newestFirst);
    });
  }, []);

  useEffect(refresh, [refresh]);
  useHubEvent('resync', refresh);
  useHubEvent('constellation', upsert);

  return { items, error, refresh, upsert };
}
