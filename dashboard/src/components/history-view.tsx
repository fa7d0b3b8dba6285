import { useEffect, useState } from 'react';
import { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Constellation, EditRecord } from '../api/types.js';
import { formatDateTime } from '../format/time.js';
import { usePermissions } from '../state/permissions.js';

/** One line per operation: "cancel_task build", "add_dependency a → b". */
export function describeOperation(op: EditRecord['operations'][number]): string {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const task = op.task as { id?: string } | undefined;
  const dep = op.dependency as { from?: string; to?: string; kind?: string } | undefined;
  if (dep) return `${op.op} ${dep.from} → ${dep.to}${dep.kind && dep.kind !== 'success' ? ` (${dep.kind})` : ''}`;
  if (op.from !== undefined && op.to !== undefined) return `${op.op} ${str(op.from)} → ${str(op.to)}`;
  const needs = Array.isArray(op.needs)
    ? (op.needs as Array<{ from?: string; kind?: string }>)
        .map((n) => (n.kind && n.kind !== 'success' ? `${n.from}:${n.kind}` : n.from))
        .join(', ')
    : '';
  return `${op.op} ${str(op.taskId) || task?.id || ''}${needs ? ` (needs ${needs})` : ''}`.trim();
}

/** The constellation's accepted edits, newest first, with Undo where the server offers an inverse. */
export function HistoryView({
  constellation,
  onChanged,
}: {
  constellation: Constellation;
  onChanged: (c: Constellation) => void;
}) {
  const [items, setItems] = useState<EditRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const perm = usePermissions();
  const { id, revision } = constellation;

  // Refetch whenever the revision moves: that is exactly when history grows.
  // biome-ignore lint/correctness/useExhaustiveDependencies: revision is the trigger
  useEffect(() => {
    let cancelled = false;
    api
      .history(id)
      .then((res) => {
        if (!cancelled) setItems([...res.items].sort((a, b) => b.revision - a.revision));
      })
      .catch((err: Error) => {
        if (!cancelled) setError(err.message);
      });
    return () => {
      cancelled = true;
    };
  }, [id, revision]);

  const undo = (rec: EditRecord) => {
    if (!rec.inverse) return;
    setBusy(true);
    setError(null);
    api
      .edit(id, { revision, operations: rec.inverse, comment: `undo revision ${rec.revision}` })
      .then(onChanged)
      .catch((err: unknown) => setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)))
      .finally(() => setBusy(false));
  };

  return (
    <div className="history" data-testid="history">
      {error && <div className="inline-error">{error}</div>}
      {items === null && !error && <div className="muted">Loading…</div>}
      {items?.length === 0 && <div className="empty">No edits since it was submitted (revision {revision}).</div>}
      {items && items.length > 0 && (
        <table className="table">
          <thead>
            <tr>
              <th>rev</th>
              <th>when</th>
              <th>who</th>
              <th>operations</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((rec) => (
              <tr key={rec.revision} data-testid={`history-${rec.revision}`}>
                <td className="mono">{rec.revision}</td>
                <td>{formatDateTime(rec.at)}</td>
                <td>{rec.author ?? <span className="muted">–</span>}</td>
                <td>
                  {rec.operations.map((op, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: operations of a record never change
                    <div key={i} className="mono small">
                      {describeOperation(op)}
                    </div>
                  ))}
                  {rec.comment && <div className="muted small">{rec.comment}</div>}
                </td>
                <td>
                  {rec.inverse && rec.inverse.length > 0 && (
                    <button
                      type="button"
                      disabled={busy || !perm.canSteer}
                      onClick={() => undo(rec)}
                      title={perm.reason ?? 'Apply the inverse edit'}
                    >
                      Undo
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
