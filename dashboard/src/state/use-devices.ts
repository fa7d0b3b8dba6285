import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client.js';
import type { DeviceView } from '../api/types.js';
import { useFrameBatch } from './use-frame-batch.js';
import { useHubEvent } from './use-hub.js';

export interface Devices {
  items: DeviceView[];
  byId: ReadonlyMap<string, DeviceView>;
  error: string | null;
  refresh: () => void;
  upsert: (device: DeviceView) => void;
}

export function useDevices(): Devices {
  const [items, setItems] = useState<DeviceView[]>([]);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api
      .listDevices()
      .then((res) => {
        setItems(res.items);
        setError(null);
      })
      .catch((err: Error) => setError(err.message));
  }, []);

  const upsertMany = useCallback((devices: DeviceView[]) => {
    setItems((prev) => {
      const byId = new Map(prev.map((d) => [d.id, d]));
      for (const d of devices) byId.set(d.id, d);
      return [...byId.values()];
    });
  }, []);
  const upsert = useCallback((device: DeviceView) => upsertMany([device]), [upsertMany]);
  const queue = useFrameBatch((d: DeviceView) => d.id, upsertMany);

  useEffect(refresh, [refresh]);
  useHubEvent('resync', refresh);
  useHubEvent('device', queue);

  const byId = useMemo(() => new Map(items.map((d) => [d.id, d])), [items]);
  return { items, byId, error, refresh, upsert };
}
