// Level of detail and viewport culling for big DAGs. Zoomed out, node text
// is too small to read, so nodes become plain status-coloured boxes and
// edges of one kind share a single <path>; zoomed in, only what is on screen
// (plus a margin) is rendered. Together they keep the DOM small at any zoom.

import type { Point } from './layout-model.js';

export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export type DetailMode = 'auto' | 'full';
export type DetailLevel = 'full' | 'compact';

/** Below this zoom the 13 px node names render under ~6 px: draw compact nodes. */
export const LABEL_MIN_SCALE = 0.45;

/** Graphs smaller than this are always rendered whole (cheap, and every node stays in the DOM). */
export const CULL_MIN_TASKS = 150;

/** Screen pixels rendered beyond each edge of the viewport, so a pan does not show empty borders. */
const MARGIN_PX = 150;

export function detailLevel(scale: number, mode: DetailMode): DetailLevel {
  return mode === 'auto' && scale < LABEL_MIN_SCALE ? 'compact' : 'full';
}

export function shouldCull(taskCount: number, mode: DetailMode, viewport: { width: number; height: number }): boolean {
  return mode === 'auto' && taskCount >= CULL_MIN_TASKS && viewport.width > 0 && viewport.height > 0;
}

/** The part of the graph's coordinate space that is on screen under `translate(x,y) scale(k)`. */
export function visibleRect(
  t: { x: number; y: number; k: number },
  viewport: { width: number; height: number },
  marginPx = MARGIN_PX,
): Rect {
  return {
    x0: (-t.x - marginPx) / t.k,
    y0: (-t.y - marginPx) / t.k,
    x1: (viewport.width - t.x + marginPx) / t.k,
    y1: (viewport.height - t.y + marginPx) / t.k,
  };
}

export function intersects(a: Rect, b: Rect): boolean {
  return a.x0 <= b.x1 && b.x0 <= a.x1 && a.y0 <= b.y1 && b.y0 <= a.y1;
}

/** Box of a node given by its centre and size. */
export function nodeRect(n: { x: number; y: number; width: number; height: number }): Rect {
  return { x0: n.x - n.width / 2, y0: n.y - n.height / 2, x1: n.x + n.width / 2, y1: n.y + n.height / 2 };
}

/** Bounding box of an edge's control points (the smooth curve stays inside it). */
export function pointsRect(points: readonly Point[]): Rect {
  let x0 = Number.POSITIVE_INFINITY;
  let y0 = Number.POSITIVE_INFINITY;
  let x1 = Number.NEGATIVE_INFINITY;
  let y1 = Number.NEGATIVE_INFINITY;
  for (const p of points) {
    if (p.x < x0) x0 = p.x;
    if (p.y < y0) y0 = p.y;
    if (p.x > x1) x1 = p.x;
    if (p.y > y1) y1 = p.y;
  }
  return { x0, y0, x1, y1 };
}

const STORAGE_KEY = 'orrery.dagDetail';

export function loadDetailMode(): DetailMode {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) === 'full' ? 'full' : 'auto';
  } catch {
    return 'auto';
  }
}

export function saveDetailMode(mode: DetailMode): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, mode);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}
