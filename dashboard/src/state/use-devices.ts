import { useCallback, useEffect, useMemo, useState } from 'react';
import { api } from '../api/client.js';
import type { DeviceView } from '../api/types.js';
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

  const upsert = useCallback((device: DeviceView) => {
    setItems((prev) => {
      const i = prev.findIndex((d) => d.id === device.id);
      return i >= 0 ? prev.map((d, j) => (j === i ? device : d)) : [...prev, device];
    });
  }, []);

  useEffect(refresh, [refresh]);
  useHubEvent('resync', refresh);
  useHubEvent('device', upsert);

  const byId = useMemo(() => new Map(items.map((d) => [d.id, d])), [items]);
  return { items, byId, error, refresh, upsert };
}
