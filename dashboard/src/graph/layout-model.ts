// Shapes and keys shared by the layout engines (dagre and the fast layered one).

import type { DependencyKind } from '../api/types.js';

export const NODE_WIDTH = 188;
export const NODE_HEIGHT = 54;

export interface LayoutInput {
  tasks: ReadonlyArray<{ id: string; name: string }>;
  dependencies: ReadonlyArray<{
    from: string;
    to: string;
    kind: DependencyKind;
    condition?: string;
  }>;
}

export interface Point {
  x: number;
  y: number;
}

export interface PlacedNode {
  id: string;
  /** Centre of the node. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  key: string;
  from: string;
  to: string;
  kind: DependencyKind;
  condition?: string;
  points: Point[];
}

export interface GraphLayout {
  nodes: Map<string, PlacedNode>;
  edges: PlacedEdge[];
  width: number;
  height: number;
}

/** A string that changes exactly when the layout would. */
export function structureKey(input: LayoutInput): string {
  const nodes = input.tasks.map((t) => `${t.id}\u0001${t.name}`).sort();
  const edges = input.dependencies.map((d) => `${d.from}\u0001${d.to}\u0001${d.kind}\u0001${d.condition ?? ''}`).sort();
  return `${nodes.join('\u0002')}\u0003${edges.join('\u0002')}`;
}

export function edgeKey(d: { from: string; to: string; kind: string }): string {
  return `${d.from}->${d.to}:${d.kind}`;
}
