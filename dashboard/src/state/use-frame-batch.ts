import { useCallback, useEffect, useRef } from 'react';

/**
 * Collects items by key and hands the latest of each to `apply` once per
 * animation frame, so a burst of SSE events costs one render. Each event
 * carries the whole entity, so only the newest per key matters.
 */
export function useFrameBatch<T>(keyOf: (item: T) => string, apply: (items: T[]) => void): (item: T) => void {
  const queue = useRef(new Map<string, T>());
  const frame = useRef<number | null>(null);
  const applyRef = useRef(apply);
  applyRef.current = apply;
  const keyRef = useRef(keyOf);
  keyRef.current = keyOf;

  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
    },
    [],
  );

  return useCallback((item: T) => {
    const key = keyRef.current(item);
    queue.current.delete(key); // re-insert so the map keeps arrival order
    queue.current.set(key, item);
    frame.current ??= requestAnimationFrame(() => {
      frame.current = null;
      const items = [...queue.current.values()];
      queue.current.clear();
      applyRef.current(items);
    });
  }, []);
}
