import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Constellation, DeviceView, TaskState, TaskStatus } from '../api/types.js';
import { collapseFanouts, GROUP_PREFIX, isGroupId } from './collapse.js';
import { type GraphLayout, layoutGraph, midpoint, type PlacedEdge, smoothPath, structureKey } from './layout.js';
import { usePanZoom } from './use-pan-zoom.js';
import {
  type DetailMode,
  detailLevel,
  intersects,
  loadDetailMode,
  nodeRect,
  pointsRect,
  type Rect,
  saveDetailMode,
  shouldCull,
  visibleRect,
} from './viewport.js';

interface Props {
  constellation: Constellation;
  devices: ReadonlyMap<string, DeviceView>;
  selectedTaskId: string | null;
  onSelectTask: (taskId: string | null) => void;
}

const KINDS = ['success', 'completion', 'failure', 'condition'] as const;

/** The live DAG: positions come from a layout memoised on structure, colours from live status. */
export function DagView({ constellation, devices, selectedTaskId, onSelectTask }: Props) {
  const svgRef = useRef<SVGSVGElement>(null);
  // Tasks and names change only through edits, which bump the revision (or
  // arrive as a refetch with a new dependency list), so status updates skip
  // this and the structure key entirely.
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision and dependencies stand for the structure of tasks
  const input = useMemo(
    () => ({
      tasks: Object.entries(constellation.tasks).map(([id, t]) => ({
        id,
        name: t.spec.name || id,
      })),
      dependencies: constellation.dependencies,
    }),
    [constellation.id, constellation.revision, constellation.dependencies],
  );
  // Big fan-outs are drawn as one group node until expanded (a click on the group).
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(() => new Set());
  const collapsed = useMemo(() => collapseFanouts(input, expanded), [input, expanded]);
  // Opening a task that sits in a collapsed group (from a link, the timeline) expands the group.
  const hiddenGroup = selectedTaskId ? collapsed.groupOf.get(selectedTaskId) : undefined;
  useEffect(() => {
    if (hiddenGroup) setExpanded((prev) => new Set([...prev, hiddenGroup]));
  }, [hiddenGroup]);
  const key = useMemo(() => structureKey(collapsed.input), [collapsed]);
  // Only a structural change re-runs dagre; status updates keep every position.
  // biome-ignore lint/correctness/useExhaustiveDependencies: key captures the structure of input
  const layout: GraphLayout = useMemo(() => layoutGraph(collapsed.input), [key]);
  const pz = usePanZoom(svgRef, layout, `${constellation.id}|${key}`);
  const { x, y, k } = pz.transform;
  // Stable across renders so memoised nodes do not re-render for a new closure.
  const selectRef = useRef(onSelectTask);
  selectRef.current = onSelectTask;
  const { wasDragged } = pz;
  const selectNode = useCallback(
    (id: string) => {
      if (wasDragged()) return;
      if (isGroupId(id)) setExpanded((prev) => new Set([...prev, id]));
      else selectRef.current(id);
    },
    [wasDragged],
  );

  const [mode, setMode] = useState<DetailMode>(loadDetailMode);
  const level = detailLevel(k, mode);
  // Computed once per layout: edge paths and boxes never change with status or zoom.
  const nodeList = useMemo(() => [...layout.nodes.values()].map((n) => ({ n, box: nodeRect(n) })), [layout]);
  const edgeList = useMemo(
    () =>
      layout.edges.map((e) => ({
        e,
        path: smoothPath(e.points),
        line: straightPath(e.points),
        box: pointsRect(e.points),
      })),
    [layout],
  );
  const cull = shouldCull(nodeList.length, mode, pz.viewport);
  const view: Rect | null = cull ? visibleRect(pz.transform, pz.viewport) : null;
  const nodes = view ? nodeList.filter((x) => intersects(x.box, view)) : nodeList;
  const edges = view ? edgeList.filter((x) => intersects(x.box, view)) : edgeList;
  const isHighlighted = (e: PlacedEdge) =>
    selectedTaskId !== null && (e.from === selectedTaskId || e.to === selectedTaskId);

  return (
    <div
      className="dag"
      data-testid="dag"
      data-level={level}
      data-rendered-nodes={nodes.length}
      data-rendered-edges={edges.length}
    >
      <svg
        ref={svgRef}
        className="dag-svg"
        onPointerDown={pz.onPointerDown}
        onClick={(e) => {
          const compactId = (e.target as Element).closest?.('[data-id]')?.getAttribute('data-id');
          if (compactId) selectNode(compactId);
          else if (e.target === e.currentTarget && !pz.wasDragged()) onSelectTask(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onSelectTask(null);
        }}
        role="img"
        aria-label={`Task graph of ${constellation.name}`}
      >
        <defs>
          {KINDS.map((kind) => (
            <marker
              key={kind}
              id={`arrow-${kind}`}
              viewBox="0 0 10 10"
              refX="9"
              refY="5"
              markerWidth="9"
              markerHeight="9"
              markerUnits="userSpaceOnUse"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" className={`arrow arrow-${kind}`} />
            </marker>
          ))}
        </defs>
        <g transform={`translate(${x},${y}) scale(${k})`}>
          {level === 'compact'
            ? // One <path> per dependency kind: thousands of edges cost four DOM nodes.
              KINDS.map((kind) => {
                const d = edges
                  .filter((x) => x.e.kind === kind && !isHighlighted(x.e))
                  .map((x) => x.line)
                  .join('');
                return d ? (
                  <g key={kind} className={`edge edge-${kind} bundle`}>
                    <path d={d} />
                  </g>
                ) : null;
              })
            : edges.map(({ e, path }) => <FullEdge key={e.key} edge={e} path={path} highlighted={isHighlighted(e)} />)}
          {level === 'compact' &&
            edges
              .filter((x) => isHighlighted(x.e))
              .map(({ e, path }) => <FullEdge key={e.key} edge={e} path={path} highlighted />)}
          {level === 'compact' ? (
            // Clicks reach the SVG's handler (one for thousands of boxes); zoomed in, nodes are focusable buttons.
            <g className="nodes-compact">
              {nodes.map(({ n }) => {
                const members = collapsed.groups.get(n.id);
                const status = members ? groupStatus(members, constellation.tasks) : constellation.tasks[n.id]?.status;
                if (!status) return null;
                return (
                  <CompactNode
                    key={n.id}
                    id={n.id}
                    status={status}
                    x={n.x - n.width / 2}
                    y={n.y - n.height / 2}
                    width={n.width}
                    height={n.height}
                    selected={n.id === selectedTaskId}
                  />
                );
              })}
            </g>
          ) : (
            nodes.map(({ n }) => {
              const members = collapsed.groups.get(n.id);
              if (members) {
                return (
                  <GroupNode
                    key={n.id}
                    id={n.id}
                    members={members}
                    tasks={constellation.tasks}
                    x={n.x - n.width / 2}
                    y={n.y - n.height / 2}
                    width={n.width}
                    height={n.height}
                    onSelect={selectNode}
                  />
                );
              }
              const task = constellation.tasks[n.id];
              if (!task) return null;
              const last = task.attempts[task.attempts.length - 1];
              return (
                <TaskNode
                  key={n.id}
                  id={n.id}
                  task={task}
                  x={n.x - n.width / 2}
                  y={n.y - n.height / 2}
                  width={n.width}
                  height={n.height}
                  deviceName={last ? (devices.get(last.deviceId)?.name ?? last.deviceId) : null}
                  selected={n.id === selectedTaskId}
                  onSelect={selectNode}
                />
              );
            })
          )}
        </g>
      </svg>
      <div className="dag-controls">
        <button type="button" onClick={() => pz.zoomBy(1.25)} title="Zoom in">
          +
        </button>
        <button type="button" onClick={() => pz.zoomBy(0.8)} title="Zoom out">
          −
        </button>
        <button type="button" onClick={pz.fit} title="Fit to view">
          fit
        </button>
        {expanded.size > 0 && (
          <button
            type="button"
            data-testid="dag-collapse"
            onClick={() => setExpanded(new Set())}
            title="Draw big fan-outs as groups again"
          >
            collapse
          </button>
        )}
        <button
          type="button"
          data-testid="dag-detail"
          data-mode={mode}
          onClick={() => {
            const next = mode === 'auto' ? 'full' : 'auto';
            saveDetailMode(next);
            setMode(next);
          }}
          title={
            mode === 'auto'
              ? 'Level of detail: labels only when legible, only what is on screen. Click to always draw everything.'
              : 'Everything is drawn with labels at any zoom. Click for automatic level of detail.'
          }
        >
          detail: {mode}
        </button>
      </div>
      <Legend compact={level === 'compact'} />
    </div>
  );
}

const FullEdge = memo(function FullEdge({
  edge: e,
  path,
  highlighted,
}: {
  edge: PlacedEdge;
  path: string;
  highlighted: boolean;
}) {
  const mid = e.kind === 'condition' ? midpoint(e.points) : null;
  return (
    <g className={`edge edge-${e.kind}${highlighted ? ' hl' : ''}`} data-testid={`edge-${e.from}-${e.to}`}>
      <path d={path} markerEnd={`url(#arrow-${e.kind})`} />
      {mid && (
        <g transform={`translate(${mid.x},${mid.y})`} className="edge-label">
          <rect x={-labelWidth(e.condition) / 2} y={-8} width={labelWidth(e.condition)} height={16} rx={4} />
          <text textAnchor="middle" dy="4">
            {truncate(e.condition ?? 'if', 24)}
          </text>
        </g>
      )}
    </g>
  );
});

interface CompactNodeProps {
  id: string;
  status: TaskStatus;
  x: number;
  y: number;
  width: number;
  height: number;
  selected: boolean;
}

/** A zoomed-out node: one status-coloured box, no text (it would be unreadable). */
const CompactNode = memo(function CompactNode({ id, status, x, y, width, height, selected }: CompactNodeProps) {
  return (
    <rect
      className={`node-dot status-${status}${selected ? ' selected' : ''}`}
      x={x}
      y={y}
      width={width}
      height={height}
      rx={9}
      data-id={id}
      data-testid={`node-${id}`}
      data-status={status}
    />
  );
});

/** End to end in one segment: at overview zoom curves look the same and cost more to paint. */
function straightPath(points: readonly { x: number; y: number }[]): string {
  const a = points[0];
  const b = points[points.length - 1];
  return a && b ? `M${Math.round(a.x)},${Math.round(a.y)}L${Math.round(b.x)},${Math.round(b.y)}` : '';
}

function labelWidth(condition: string | undefined): number {
  return Math.min(160, 10 + 6.5 * truncate(condition ?? 'if', 24).length);
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

interface NodeProps {
  id: string;
  task: TaskState;
  x: number;
  y: number;
  width: number;
  height: number;
  /** The device of the latest attempt (a string, so device updates do not re-render every node). */
  deviceName: string | null;
  selected: boolean;
  onSelect: (id: string) => void;
}

// Memoised: a task event changes one task object, so only that node re-renders.
const TaskNode = memo(function TaskNode({ id, task, x, y, width, height, deviceName, selected, onSelect }: NodeProps) {
  const onClick = () => onSelect(id);
  let detail: string = task.status.replace('_', ' ');
  if (task.attempts.length > 1) detail += ` · #${task.attempts.length}`;
  if (deviceName && task.status !== 'pending' && task.status !== 'ready') detail += ` · ${deviceName}`;
  else if (task.waitingReason && task.status === 'ready') detail += ' · waiting';
  const progress = task.status === 'running' && task.progress ? Math.max(0, Math.min(1, task.progress.fraction)) : null;
  return (
    // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; a <g> with role=button is the accessible form
    <g
      className={`node status-${task.status}${selected ? ' selected' : ''}`}
      transform={`translate(${x},${y})`}
      data-testid={`node-${id}`}
      data-status={task.status}
      onClick={onClick}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') onClick();
      }}
      tabIndex={0}
      role="button"
      aria-label={`${task.spec.name || id}: ${task.status}`}
    >
      <title>{task.waitingReason ? `${id}: ${task.waitingReason}` : `${id}: ${task.status}`}</title>
      <rect className="node-bg" width={width} height={height} rx={9} />
      <rect className="node-stripe" width={5} height={height} rx={2} />
      <text className="node-name" x={16} y={22}>
        {truncate(task.spec.name || id, 24)}
      </text>
      <text className="node-detail" x={16} y={40}>
        {truncate(detail, 30)}
      </text>
      {progress !== null && (
        <rect className="node-progress" x={5} y={height - 3} width={(width - 5) * progress} height={3} />
      )}
    </g>
  );
});

function Legend({ compact }: { compact: boolean }) {
  return (
    <div className="dag-legend">
      {compact && (
        <span className="legend-item" data-testid="dag-lod-note">
          zoomed out: labels hidden, zoom in to read
        </span>
      )}
      {KINDS.map((k) => (
        <span key={k} className={`legend-item edge-${k}`}>
          <svg width="26" height="8" aria-hidden="true">
            <line x1="0" y1="4" x2="26" y2="4" />
          </svg>
          {k}
        </span>
      ))}
    </div>
  );
}

/** The status a group shows: trouble first, then activity, then the common outcome. */
export function groupStatus(members: readonly string[], tasks: Constellation['tasks']): TaskStatus {
  const seen = new Set<TaskStatus>();
  for (const id of members) {
    const st = tasks[id]?.status;
    if (st) seen.add(st);
  }
  for (const st of ['failed', 'timed_out', 'running', 'assigned', 'ready', 'pending'] as const)
    if (seen.has(st)) return st;
  if (seen.size === 1) return [...seen][0] as TaskStatus;
  return seen.has('succeeded') ? 'succeeded' : 'skipped';
}

interface GroupNodeProps {
  id: string;
  members: readonly string[];
  tasks: Constellation['tasks'];
  x: number;
  y: number;
  width: number;
  height: number;
  onSelect: (id: string) => void;
}

/** A collapsed fan-out: how many tasks, how far along; a click expands it. */
function GroupNode({ id, members, tasks, x, y, width, height, onSelect }: GroupNodeProps) {
  const status = groupStatus(members, tasks);
  const counts = new Map<string, number>();
  for (const m of members) {
    const st = tasks[m]?.status ?? 'pending';
    counts.set(st, (counts.get(st) ?? 0) + 1);
  }
  const detail = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([st, n]) => `${n} ${st.replace('_', ' ')}`)
    .join(' · ');
  const expand = () => onSelect(id);
  return (
    // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; a <g> with role=button is the accessible form
    <g
      className={`node group status-${status}`}
      transform={`translate(${x},${y})`}
      data-testid={`group-${id.slice(GROUP_PREFIX.length)}`}
      data-status={status}
      data-count={members.length}
      onClick={expand}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') expand();
      }}
      tabIndex={0}
      role="button"
      aria-label={`${members.length} similar tasks, click to expand`}
    >
      <title>{`${members.length} tasks with the same dependencies (${members[0]} …): click to expand`}</title>
      <rect className="node-bg group-shadow" x={6} y={6} width={width} height={height} rx={9} />
      <rect className="node-bg" width={width} height={height} rx={9} />
      <rect className="node-stripe" width={5} height={height} rx={2} />
      <text className="node-name" x={16} y={22}>
        {members.length} tasks ▸
      </text>
      <text className="node-detail" x={16} y={40}>
        {truncate(detail, 30)}
      </text>
    </g>
  );
}
