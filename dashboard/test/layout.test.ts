import { describe, expect, it } from 'vitest';
import { assignLanes } from '../src/components/timeline-lanes.js';
import { fastLayout } from '../src/graph/fast-layout.js';
import { DAGRE_MAX_TASKS, layoutGraph, midpoint, smoothPath, structureKey } from '../src/graph/layout.js';
import {
  CULL_MIN_TASKS,
  detailLevel,
  intersects,
  LABEL_MIN_SCALE,
  nodeRect,
  pointsRect,
  shouldCull,
  visibleRect,
} from '../src/graph/viewport.js';

const diamond = {
  tasks: [
    { id: 'a', name: 'a' },
    { id: 'b', name: 'b' },
    { id: 'c', name: 'c' },
    { id: 'd', name: 'd' },
  ],
  dependencies: [
    { from: 'a', to: 'b', kind: 'success' as const },
    { from: 'a', to: 'c', kind: 'success' as const },
    { from: 'b', to: 'd', kind: 'completion' as const },
    {
      from: 'c',
      to: 'd',
      kind: 'condition' as const,
      condition: 'outputs.ok == "yes"',
    },
  ],
};

describe('structureKey', () => {
  it('ignores order of tasks and edges', () => {
    const shuffled = {
      tasks: [...diamond.tasks].reverse(),
      dependencies: [...diamond.dependencies].reverse(),
    };
    expect(structureKey(shuffled)).toBe(structureKey(diamond));
  });

  it('changes when a task or an edge is added, or an edge kind changes', () => {
    const base = structureKey(diamond);
    expect(
      structureKey({
        ...diamond,
        tasks: [...diamond.tasks, { id: 'e', name: 'e' }],
      }),
    ).not.toBe(base);
    expect(
      structureKey({
        ...diamond,
        dependencies: [...diamond.dependencies, { from: 'a', to: 'd', kind: 'success' }],
      }),
    ).not.toBe(base);
    const kinds = diamond.dependencies.map((d, i) => (i === 0 ? { ...d, kind: 'failure' as const } : d));
    expect(structureKey({ ...diamond, dependencies: kinds })).not.toBe(base);
  });
});

describe('layoutGraph', () => {
  it('places every node left to right along the dependencies', () => {
    const l = layoutGraph(diamond);
    expect([...l.nodes.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    const x = (id: string) => l.nodes.get(id)!.x;
    expect(x('a')).toBeLessThan(x('b'));
    expect(x('b')).toBeLessThan(x('d'));
    expect(x('c')).toBeLessThan(x('d'));
    expect(l.edges).toHaveLength(4);
    for (const e of l.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    expect(l.width).toBeGreaterThan(0);
    expect(l.height).toBeGreaterThan(0);
  });

  it('is deterministic whatever order the API lists tasks in', () => {
    const a = layoutGraph(diamond);
    const b = layoutGraph({
      tasks: [...diamond.tasks].reverse(),
      dependencies: [...diamond.dependencies].reverse(),
    });
    for (const [id, n] of a.nodes) expect(b.nodes.get(id)).toEqual(n);
  });

  it('drops edges to unknown tasks instead of crashing', () => {
    const l = layoutGraph({
      tasks: [{ id: 'a', name: 'a' }],
      dependencies: [{ from: 'ghost', to: 'a', kind: 'success' }],
    });
    expect(l.nodes.size).toBe(1);
    expect(l.edges).toHaveLength(0);
  });

  it('lays out a few hundred tasks', () => {
    const tasks = Array.from({ length: 300 }, (_, i) => ({
      id: `t${i}`,
      name: `t${i}`,
    }));
    const dependencies = tasks.slice(1).map((t, i) => ({
      from: `t${Math.floor(i / 3)}`,
      to: t.id,
      kind: 'success' as const,
    }));
    const l = layoutGraph({ tasks, dependencies });
    expect(l.nodes.size).toBe(300);
  });
});

describe('path helpers', () => {
  it('draws a smooth path through the points', () => {
    const d = smoothPath([
      { x: 0, y: 0 },
      { x: 10, y: 10 },
      { x: 20, y: 0 },
    ]);
    expect(d.startsWith('M0,0')).toBe(true);
    expect(d.endsWith('20,0')).toBe(true);
    expect(d).toContain('C');
  });

  it('finds the middle of a polyline', () => {
    expect(
      midpoint([
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 10, y: 10 },
      ]),
    ).toEqual({ x: 10, y: 0 });
  });
});

describe('fastLayout (big graphs)', () => {
  it('ranks every task after its dependencies without overlaps', () => {
    const n = 1000;
    const tasks = Array.from({ length: n }, (_, i) => ({
      id: `t${i}`,
      name: `t${i}`,
    }));
    const dependencies = tasks
      .slice(1)
      .flatMap((t, i) => [
        { from: `t${Math.floor(i / 3)}`, to: t.id, kind: 'success' as const },
        ...(i > 10 ? [{ from: `t${i - 7}`, to: t.id, kind: 'completion' as const }] : []),
      ]);
    const l = fastLayout({ tasks, dependencies });
    expect(l.nodes.size).toBe(n);
    for (const d of dependencies) expect(l.nodes.get(d.from)!.x).toBeLessThan(l.nodes.get(d.to)!.x);
    const seen = new Set<string>();
    for (const node of l.nodes.values()) {
      const at = `${node.x},${node.y}`;
      expect(seen.has(at)).toBe(false);
      seen.add(at);
    }
    expect(l.edges).toHaveLength(dependencies.length);
  });

  it('is what layoutGraph uses above the dagre limit', () => {
    const tasks = Array.from({ length: DAGRE_MAX_TASKS + 1 }, (_, i) => ({
      id: `t${i}`,
      name: `t${i}`,
    }));
    const l = layoutGraph({ tasks, dependencies: [] });
    expect(l.nodes.size).toBe(DAGRE_MAX_TASKS + 1);
  });
});

describe('assignLanes (timeline)', () => {
  it('puts overlapping attempts on separate lanes and reuses freed lanes', () => {
    const { lanes, count } = assignLanes([
      { start: 0, end: 10 },
      { start: 5, end: 15 },
      { start: 10, end: 12 },
      { start: 16, end: 20 },
    ]);
    expect(lanes).toEqual([0, 1, 0, 0]);
    expect(count).toBe(2);
    expect(assignLanes([]).count).toBe(1);
  });
});

describe('level of detail and viewport culling', () => {
  it('draws compact nodes only in auto mode below the legible scale', () => {
    expect(detailLevel(LABEL_MIN_SCALE - 0.01, 'auto')).toBe('compact');
    expect(detailLevel(LABEL_MIN_SCALE, 'auto')).toBe('full');
    expect(detailLevel(0.05, 'full')).toBe('full');
  });

  it('culls only big graphs in auto mode once the viewport is measured', () => {
    const vp = { width: 800, height: 600 };
    expect(shouldCull(CULL_MIN_TASKS, 'auto', vp)).toBe(true);
    expect(shouldCull(CULL_MIN_TASKS - 1, 'auto', vp)).toBe(false);
    expect(shouldCull(CULL_MIN_TASKS, 'full', vp)).toBe(false);
    expect(shouldCull(CULL_MIN_TASKS, 'auto', { width: 0, height: 0 })).toBe(false);
  });

  it('maps the screen back into graph coordinates', () => {
    // translate(-1000, -500) scale(2): screen (0,0) is graph (500,250).
    const r = visibleRect({ x: -1000, y: -500, k: 2 }, { width: 800, height: 600 }, 0);
    expect(r).toEqual({ x0: 500, y0: 250, x1: 900, y1: 550 });
    expect(intersects(r, nodeRect({ x: 480, y: 300, width: 60, height: 20 }))).toBe(true); // straddles the left edge
    expect(intersects(r, nodeRect({ x: 400, y: 300, width: 60, height: 20 }))).toBe(false);
    expect(
      pointsRect([
        { x: 3, y: 9 },
        { x: -1, y: 4 },
        { x: 7, y: 5 },
      ]),
    ).toEqual({ x0: -1, y0: 4, x1: 7, y1: 9 });
  });

  it('renders a 1,000-task graph as few enough elements when zoomed out', () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => ({ id: `t${i}`, name: `t${i}` }));
    const dependencies = tasks.slice(50).map((t, i) => ({ from: `t${i}`, to: t.id, kind: 'success' as const }));
    const layout = layoutGraph({ tasks, dependencies });
    // At the fitted zoom of a 1400×900 viewport the text would be unreadable.
    const k = Math.min(1360 / layout.width, 860 / layout.height);
    expect(detailLevel(k, 'auto')).toBe('compact');
  });
});
