import { type StatusCounts, TASK_STATUSES } from '../api/types.js';

/** A thin stacked bar plus "done/total" for a constellation's task counts. */
export function ProgressCounts({ counts, compact = false }: { counts: StatusCounts; compact?: boolean }) {
  const total = TASK_STATUSES.reduce((n, s) => n + (counts[s] ?? 0), 0);
  const done =
    (counts.succeeded ?? 0) +
    (counts.failed ?? 0) +
    (counts.timed_out ?? 0) +
    (counts.cancelled ?? 0) +
    (counts.skipped ?? 0);
  const title = TASK_STATUSES.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${s}: ${counts[s]}`)
    .join(', ');
  return (
    <div className={compact ? 'progress compact' : 'progress'} title={title}>
      <div className="progress-bar">
        {total > 0 &&
          TASK_STATUSES.map((s) =>
            (counts[s] ?? 0) > 0 ? (
              <span key={s} className={`seg status-${s}`} style={{ width: `${((counts[s] ?? 0) / total) * 100}%` }} />
            ) : null,
          )}
      </div>
      <span className="progress-text">
        {done}/{total}
        {!compact && (counts.failed ?? 0) + (counts.timed_out ?? 0) > 0 && (
          <span className="progress-failed"> · {(counts.failed ?? 0) + (counts.timed_out ?? 0)} failed</span>
        )}
      </span>
    </div>
  );
}

export function countStatuses(statuses: Iterable<string>): StatusCounts {
  const counts: Record<string, number> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts as StatusCounts;
}
