import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client.js';
import type { ConstellationSummary } from '../api/types.js';
import { useFrameBatch } from './use-frame-batch.js';
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

/** Inserts or replaces summaries, newest first; never goes back in revision (events may race a fetch). */
export function upsertSummaries(
  prev: ConstellationSummary[],
  summaries: ConstellationSummary[],
): ConstellationSummary[] {
  const byId = new Map(prev.map((c) => [c.id, c]));
  let changed = false;
  for (const s of summaries) {
    const cur = byId.get(s.id);
    if (cur && cur.revision > s.revision) continue;
    byId.set(s.id, s);
    changed = true;
  }
  return changed ? [...byId.values()].sort(newestFirst) : prev;
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

  const upsertMany = useCallback((summaries: ConstellationSummary[]) => {
    setItems((prev) => upsertSummaries(prev, summaries));
  }, []);
  const upsert = useCallback((summary: ConstellationSummary) => upsertMany([summary]), [upsertMany]);
  const queue = useFrameBatch((s: ConstellationSummary) => s.id, upsertMany);

  useEffect(refresh, [refresh]);
  useHubEvent('resync', refresh);
  useHubEvent('constellation', queue);

  return { items, error, refresh, upsert };
}
