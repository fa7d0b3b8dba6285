// DAG layout with dagre (rankdir LR). Layout depends only on the graph's
// structure, so callers memoise on structureKey() and status-only updates
// reuse the same positions: no jitter while tasks run.

import dagre from '@dagrejs/dagre';
import { fastLayout } from './fast-layout.js';
import {
  edgeKey,
  type GraphLayout,
  type LayoutInput,
  NODE_HEIGHT,
  NODE_WIDTH,
  type PlacedEdge,
  type PlacedNode,
  type Point,
} from './layout-model.js';

export * from './layout-model.js';

/** Above this many tasks dagre would block the page for seconds; use the fast layered layout. */
export const DAGRE_MAX_TASKS = 250;

/** dagre for normal graphs, the fast layered layout for big ones. */
export function layoutGraph(input: LayoutInput): GraphLayout {
  return input.tasks.length > DAGRE_MAX_TASKS ? fastLayout(input) : dagreLayout(input);
}

export function dagreLayout(input: LayoutInput): GraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({
    rankdir: 'LR',
    nodesep: 26,
    ranksep: 70,
    edgesep: 14,
    marginx: 24,
    marginy: 24,
  });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  // Sorted insertion keeps the layout deterministic whatever order the API used.
  for (const t of [...input.tasks].sort((a, b) => a.id.localeCompare(b.id))) {
    ids.add(t.id);
    g.setNode(t.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  const deps = input.dependencies
    .filter((d) => ids.has(d.from) && ids.has(d.to))
    .sort((a, b) => (edgeKey(a) < edgeKey(b) ? -1 : edgeKey(a) > edgeKey(b) ? 1 : 0));
  for (const d of deps) {
    const label =
      d.kind === 'condition'
        ? {
            width: Math.min(160, 8 + 6.5 * (d.condition ?? 'if').length),
            height: 16,
          }
        : {};
    g.setEdge(d.from, d.to, label, edgeKey(d));
  }
  dagre.layout(g);

  const nodes = new Map<string, PlacedNode>();
  for (const id of ids) {
    const n = g.node(id);
    nodes.set(id, {
      id,
      x: n.x ?? 0,
      y: n.y ?? 0,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
    });
  }
  const edges: PlacedEdge[] = deps.map((d) => {
    const e = g.edge({ v: d.from, w: d.to, name: edgeKey(d) });
    const points = (e?.points ?? []).map((p: Point) => ({ x: p.x, y: p.y }));
    return {
      key: edgeKey(d),
      from: d.from,
      to: d.to,
      kind: d.kind,
      condition: d.condition,
      points,
    };
  });
  const graph = g.graph();
  return { nodes, edges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

/** A smooth SVG path through the points (uniform cubic B-spline, like d3's curveBasis). */
export function smoothPath(points: readonly Point[]): string {
  const p = points;
  if (p.length === 0) return '';
  const first = p[0]!;
  if (p.length === 1) return `M${first.x},${first.y}`;
  if (p.length === 2) return `M${first.x},${first.y}L${p[1]!.x},${p[1]!.y}`;
  const f = (n: number) => Math.round(n * 10) / 10;
  let d = `M${f(first.x)},${f(first.y)}`;
  const second = p[1]!;
  d += `L${f((5 * first.x + second.x) / 6)},${f((5 * first.y + second.y) / 6)}`;
  for (let i = 1; i < p.length - 1; i++) {
    const a = p[i - 1]!;
    const b = p[i]!;
    const c = p[i + 1]!;
    d += `C${f((2 * a.x + b.x) / 3)},${f((2 * a.y + b.y) / 3)} ${f((a.x + 2 * b.x) / 3)},${f((a.y + 2 * b.y) / 3)} ${f((a.x + 4 * b.x + c.x) / 6)},${f((a.y + 4 * b.y + c.y) / 6)}`;
  }
  const y = p[p.length - 2]!;
  const z = p[p.length - 1]!;
  d += `C${f((2 * y.x + z.x) / 3)},${f((2 * y.y + z.y) / 3)} ${f((y.x + 2 * z.x) / 3)},${f((y.y + 2 * z.y) / 3)} ${f(z.x)},${f(z.y)}`;
  return d;
}

/** The point halfway along a polyline, for edge labels. */
export function midpoint(points: readonly Point[]): Point {
  if (points.length === 0) return { x: 0, y: 0 };
  let total = 0;
  for (let i = 1; i < points.length; i++) total += dist(points[i - 1]!, points[i]!);
  let left = total / 2;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    const len = dist(a, b);
    if (left <= len && len > 0) {
      const t = left / len;
      return { x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t };
    }
    left -= len;
  }
  return points[points.length - 1]!;
}

function dist(a: Point, b: Point): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}
