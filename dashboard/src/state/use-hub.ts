import { useEffect, useRef, useSyncExternalStore } from 'react';
import { type ConnectionState, type EventMap, type EventName, hub } from '../api/event-hub.js';

/** Subscribes to one hub event for the component's lifetime; the latest handler always runs. */
export function useHubEvent<K extends EventName>(name: K, handler: (payload: EventMap[K]) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => hub.on(name, (p) => ref.current(p)), [name]);
}

export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    (l) => hub.subscribeState(l),
    () => hub.getState(),
  );
}
