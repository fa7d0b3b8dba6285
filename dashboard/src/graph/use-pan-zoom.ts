import { type RefObject, useCallback, useEffect, useRef, useState } from 'react';

// Simple pan/zoom for an SVG viewport: wheel zooms around the cursor, a drag
// pans. A press that moves less than DRAG_THRESHOLD stays a click, so nodes
// remain clickable.

export interface Transform {
  x: number;
  y: number;
  k: number;
}

const MIN_K = 0.03;
const MAX_K = 3;
const DRAG_THRESHOLD = 4;

export interface PanZoom {
  transform: Transform;
  /** Size of the SVG element in CSS pixels (0×0 until measured). */
  viewport: { width: number; height: number };
  fit: () => void;
  zoomBy: (factor: number) => void;
  /** True right after a drag, so the trailing click can be ignored. */
  wasDragged: () => boolean;
  onPointerDown: (e: React.PointerEvent<SVGSVGElement>) => void;
}

export function usePanZoom(
  ref: RefObject<SVGSVGElement | null>,
  content: { width: number; height: number },
  fitKey: string,
): PanZoom {
  const [transform, setTransform] = useState<Transform>({ x: 0, y: 0, k: 1 });
  const [viewport, setViewport] = useState({ width: 0, height: 0 });
  const dragged = useRef(false);
  // Until the user pans or zooms, the graph keeps fitting its viewport (e.g. when the drawer opens).
  const touched = useRef(false);

  const fit = useCallback(() => {
    const el = ref.current;
    if (!el || content.width === 0) return;
    const { width, height } = el.getBoundingClientRect();
    if (width === 0 || height === 0) return;
    const k = Math.max(MIN_K, Math.min(1, (width - 40) / content.width, (height - 40) / content.height));
    touched.current = false;
    setTransform({
      k,
      x: (width - content.width * k) / 2,
      y: (height - content.height * k) / 2,
    });
  }, [ref, content.width, content.height]);

  // Re-fit when the structure (and so the layout) changes, never on status updates.
  // biome-ignore lint/correctness/useExhaustiveDependencies: fitKey is the trigger
  useEffect(fit, [fitKey]);

  const fitRef = useRef(fit);
  fitRef.current = fit;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const r = el.getBoundingClientRect();
      setViewport((v) => (v.width === r.width && v.height === r.height ? v : { width: r.width, height: r.height }));
      if (!touched.current) fitRef.current();
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, [ref]);

  const zoomAt = useCallback((factor: number, cx: number, cy: number) => {
    touched.current = true;
    setTransform((t) => {
      const k = Math.max(MIN_K, Math.min(MAX_K, t.k * factor));
      const f = k / t.k;
      return { k, x: cx - (cx - t.x) * f, y: cy - (cy - t.y) * f };
    });
  }, []);

  const zoomBy = useCallback(
    (factor: number) => {
      const el = ref.current;
      if (!el) return;
      const r = el.getBoundingClientRect();
      zoomAt(factor, r.width / 2, r.height / 2);
    },
    [ref, zoomAt],
  );

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    // Non-passive so the page does not scroll while zooming.
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const r = el.getBoundingClientRect();
      const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      zoomAt(Math.exp(-delta * 0.0015), e.clientX - r.left, e.clientY - r.top);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [ref, zoomAt]);

  const onPointerDown = useCallback((e: React.PointerEvent<SVGSVGElement>) => {
    if (e.button !== 0) return;
    const el = e.currentTarget;
    const startX = e.clientX;
    const startY = e.clientY;
    let last = { x: startX, y: startY };
    let dragging = false;
    dragged.current = false;
    const move = (ev: PointerEvent) => {
      if (!dragging && Math.hypot(ev.clientX - startX, ev.clientY - startY) < DRAG_THRESHOLD) return;
      if (!dragging) {
        dragging = true;
        dragged.current = true;
        touched.current = true;
        el.setPointerCapture(ev.pointerId);
        el.classList.add('panning');
      }
      const dx = ev.clientX - last.x;
      const dy = ev.clientY - last.y;
      last = { x: ev.clientX, y: ev.clientY };
      setTransform((t) => ({ ...t, x: t.x + dx, y: t.y + dy }));
    };
    const up = () => {
      el.classList.remove('panning');
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      el.removeEventListener('pointercancel', up);
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
    el.addEventListener('pointercancel', up);
  }, []);

  const wasDragged = useCallback(() => dragged.current, []);

  return { transform, viewport, fit, zoomBy, wasDragged, onPointerDown };
}
