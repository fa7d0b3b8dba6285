import { useMemo, useRef } from 'react';
import { type Constellation, type DeviceView, TERMINAL_CONSTELLATION_STATUSES } from '../api/types.js';
import { formatDuration } from '../format/time.js';
import { useElementWidth } from '../state/use-element-width.js';
import { useNow } from '../state/use-now.js';
import { assignLanes } from './timeline-lanes.js';

interface Props {
  constellation: Constellation;
  devices: ReadonlyMap<string, DeviceView>;
  selectedTaskId: string | null;
  onSelectTask: (taskId: string) => void;
}

interface Bar {
  taskId: string;
  attempt: number;
  start: number;
  end: number;
  live: boolean;
  outcome: string;
}

const LANE = 24;
const ROW_PAD = 3;
const LABEL_W = 150;
const AXIS_H = 26;

/** A Gantt chart of attempts, one row per device, for the selected constellation. */
export function Timeline({ constellation, devices, selectedTaskId, onSelectTask }: Props) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const width = useElementWidth(wrapRef);
  const live = !TERMINAL_CONSTELLATION_STATUSES.has(constellation.status);
  const now = useNow(500, live);

  const { rows, t0, t1 } = useMemo(() => {
    const byDevice = new Map<string, Bar[]>();
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const [taskId, task] of Object.entries(constellation.tasks)) {
      for (const a of task.attempts) {
        const start = a.startedAt ?? a.assignedAt;
        const end = a.endedAt ?? (live ? now : (a.startedAt ?? a.assignedAt));
        min = Math.min(min, a.assignedAt, start);
        max = Math.max(max, end);
        const bars = byDevice.get(a.deviceId) ?? [];
        bars.push({
          taskId,
          attempt: a.number,
          start,
          end,
          live: a.endedAt === undefined,
          outcome: a.outcome ?? 'running',
        });
        byDevice.set(a.deviceId, bars);
      }
    }
    const rows = [...byDevice.entries()]
      .map(([deviceId, bars]) => ({
        deviceId,
        name: devices.get(deviceId)?.name ?? deviceId,
        bars,
        ...assignLanes(bars),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { rows, t0: min, t1: Math.max(max, min + 1) };
  }, [constellation.tasks, devices, live, now]);

  if (rows.length === 0) {
    return (
      <div className="timeline empty" ref={wrapRef} data-testid="timeline">
        No attempts yet.
      </div>
    );
  }

  const plotW = Math.max(100, width - LABEL_W - 36); // room for the last tick label
  const span = t1 - t0;
  const sx = (t: number) => LABEL_W + ((t - t0) / span) * plotW;
  const ticks = niceTicks(span, Math.max(2, Math.floor(plotW / 90)));
  const rowHeight = (lanes: number) => lanes * LANE + ROW_PAD * 2;
  const rowTops: number[] = [];
  let top = AXIS_H;
  for (const row of rows) {
    rowTops.push(top);
    top += rowHeight(row.count);
  }
  const height = top + 8;

  return (
    <div className="timeline" ref={wrapRef} data-testid="timeline">
      <svg width={width} height={height} role="img" aria-label={`Attempts of ${constellation.name} per device`}>
        <title>Attempts per device</title>
        {ticks.map((t) => (
          <g key={t} className="tick">
            <line x1={sx(t0 + t)} x2={sx(t0 + t)} y1={AXIS_H - 6} y2={height} />
            <text x={sx(t0 + t)} y={AXIS_H - 10} textAnchor="middle">
              {t === 0 ? '0' : `+${formatDuration(t)}`}
            </text>
          </g>
        ))}
        {rows.map((row, i) => {
          const y = rowTops[i] ?? AXIS_H;
          return (
            <g key={row.deviceId} data-testid={`timeline-row-${row.deviceId}`}>
              <rect className="row-bg" x={0} y={y} width={width} height={rowHeight(row.count)} />
              <text className="row-label" x={8} y={y + ROW_PAD + LANE / 2 + 4}>
                {row.name}
              </text>
              {row.bars.map((b, j) => {
                const by = y + ROW_PAD + (row.lanes[j] ?? 0) * LANE;
                const x = sx(b.start);
                const w = Math.max(3, sx(b.end) - x);
                return (
                  // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; a <g> with role=button is the accessible form
                  <g
                    key={`${b.taskId}#${b.attempt}`}
                    role="button"
                    tabIndex={0}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter') onSelectTask(b.taskId);
                    }}
                    className={`bar status-${b.outcome}${b.live ? ' live' : ''}${b.taskId === selectedTaskId ? ' selected' : ''}`}
                    onClick={() => onSelectTask(b.taskId)}
                  >
                    <title>
                      {b.taskId} #{b.attempt}: {b.outcome}, {formatDuration(b.end - b.start)}
                    </title>
                    <rect x={x} y={by + 2} width={w} height={LANE - 4} rx={4} />
                    {w > 40 && (
                      <text x={x + 6} y={by + LANE / 2 + 4} className="bar-label">
                        {b.taskId.length * 6.5 > w - 10
                          ? `${b.taskId.slice(0, Math.max(1, Math.floor((w - 16) / 6.5)))}…`
                          : b.taskId}
                      </text>
                    )}
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
    </div>
  );
}

/** Round tick steps (1, 2, 5 × 10^n ms) so the axis reads "+0 s, +2 s, +4 s". */
function niceTicks(span: number, maxTicks: number): number[] {
  const raw = span / maxTicks;
  const pow = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let t = 0; t <= span && ticks.length < 50; t += step) ticks.push(t);
  return ticks;
}
