// A cheap layered layout for graphs too big for dagre to lay out without
// freezing the page (dagre costs about 2 ms per task here): longest-path
// ranks, one barycentre sweep to order each rank, S-shaped edges. Crossings
// are not minimised; at this size the picture is an overview anyway.

import {
  edgeKey,
  type GraphLayout,
  type LayoutInput,
  NODE_HEIGHT,
  NODE_WIDTH,
  type PlacedEdge,
  type PlacedNode,
} from './layout-model.js';

const RANK_SEP = 70;
const NODE_SEP = 20;
const MARGIN = 24;

export function fastLayout(input: LayoutInput): GraphLayout {
  const ids = input.tasks.map((t) => t.id).sort();
  const known = new Set(ids);
  const deps = input.dependencies.filter((d) => known.has(d.from) && known.has(d.to));
  const out = new Map<string, string[]>();
  const inDeg = new Map<string, number>(ids.map((id) => [id, 0]));
  const preds = new Map<string, string[]>();
  for (const d of deps) {
    out.set(d.from, [...(out.get(d.from) ?? []), d.to]);
    preds.set(d.to, [...(preds.get(d.to) ?? []), d.from]);
    inDeg.set(d.to, (inDeg.get(d.to) ?? 0) + 1);
  }

  // Longest path from the sources (Kahn's order); anything left over (a cycle
  // the server should have refused) stays on rank 0 rather than vanishing.
  const rank = new Map<string, number>(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => inDeg.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of out.get(v) ?? []) {
      rank.set(w, Math.max(rank.get(w) ?? 0, (rank.get(v) ?? 0) + 1));
      const left = (inDeg.get(w) ?? 1) - 1;
      inDeg.set(w, left);
      if (left === 0) queue.push(w);
    }
  }

  const ranks: string[][] = [];
  for (const id of ids) {
    const r = rank.get(id) ?? 0;
    const layer = ranks[r] ?? [];
    layer.push(id);
    ranks[r] = layer;
  }
  // Order each rank by the mean position of its predecessors (one sweep).
  const pos = new Map<string, number>();
  for (const layer of ranks) {
    if (!layer) continue;
    const score = (id: string) => {
      const p = (preds.get(id) ?? []).map((u) => pos.get(u)).filter((n): n is number => n !== undefined);
      return p.length ? p.reduce((a, b) => a + b, 0) / p.length : Number.POSITIVE_INFINITY;
    };
    const scored = layer.map((id) => ({ id, s: score(id) }));
    scored.sort((a, b) => a.s - b.s || (a.id < b.id ? -1 : 1));
    scored.forEach((e, i) => {
      pos.set(e.id, i);
    });
    layer.splice(0, layer.length, ...scored.map((e) => e.id));
  }

  const tallest = Math.max(1, ...ranks.map((l) => l?.length ?? 0));
  const height = MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * NODE_SEP;
  const nodes = new Map<string, PlacedNode>();
  ranks.forEach((layer, r) => {
    if (!layer) return;
    const layerH = layer.length * NODE_HEIGHT + (layer.length - 1) * NODE_SEP;
    const top = (height - layerH) / 2;
    layer.forEach((id, i) => {
      nodes.set(id, {
        id,
        x: MARGIN + r * (NODE_WIDTH + RANK_SEP) + NODE_WIDTH / 2,
        y: top + i * (NODE_HEIGHT + NODE_SEP) + NODE_HEIGHT / 2,
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
      });
    });
  });

  const edges: PlacedEdge[] = deps.map((d) => {
    const a = nodes.get(d.from)!;
    const b = nodes.get(d.to)!;
    const x1 = a.x + NODE_WIDTH / 2;
    const x2 = b.x - NODE_WIDTH / 2;
    const bend = Math.min(RANK_SEP / 2, Math.max(8, (x2 - x1) / 2));
    return {
      key: edgeKey(d),
      from: d.from,
      to: d.to,
      kind: d.kind,
      condition: d.condition,
      points: [
        { x: x1, y: a.y },
        { x: x1 + bend, y: a.y },
        { x: x2 - bend, y: b.y },
        { x: x2, y: b.y },
      ],
    };
  });
  const width = MARGIN * 2 + ranks.length * NODE_WIDTH + Math.max(0, ranks.length - 1) * RANK_SEP;
  return { nodes, edges, width, height };
}
