// Replan proposals of one constellation (docs/planner.md): what the planner
// proposes after a failure or on request, with Approve / Reject. Hidden
// while there are none. Refetches on `proposal` live events and after a
// stream gap; an approval's edit reaches the graph through the usual `edit` event.
import { useCallback, useEffect, useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { Proposal } from '../api/types.js';
import { formatDateTime } from '../format/time.js';
import { usePermissions } from '../state/permissions.js';
import { useHubEvent } from '../state/use-hub.js';

interface Props {
  constellationId: string;
}

function describeOperation(op: Proposal['operations'][number]): string {
  const task = op.task as { id?: string; target?: unknown; executor?: { command?: string } } | undefined;
  if (task) return `${op.op} ${task.id ?? ''} on ${JSON.stringify(task.target ?? {})}: ${task.executor?.command ?? ''}`;
  return `${op.op} ${op.taskId ?? ''}`.trim();
}

export function ProposalsPanel({ constellationId }: Props) {
  const perm = usePermissions();
  // Tagged with their constellation, so another constellation's proposals never show while the new ones load.
  const [loaded, setLoaded] = useState<{ id: string; items: Proposal[] }>({ id: constellationId, items: [] });
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(() => {
    api
      .proposals(constellationId)
      .then((r) => setLoaded({ id: constellationId, items: r.items }))
      // Older servers have no proposals route: show nothing rather than an error.
      .catch(() => setLoaded({ id: constellationId, items: [] }));
  }, [constellationId]);

  useEffect(refresh, [refresh]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new constellation starts without the old one's error
  useEffect(() => setError(null), [constellationId]);
  useHubEvent('resync', refresh);
  useHubEvent('proposal', (ev) => {
    if (ev.constellationId === constellationId) refresh();
  });

  const decide = (id: string, action: 'approve' | 'reject') => {
    setBusy(id);
    setError(null);
    (action === 'approve' ? api.approveProposal(id) : api.rejectProposal(id))
      .then(refresh)
      .catch((err: ApiError) => {
        setError(`${err.code}: ${err.message}${err.problem.hint ? ` (${err.problem.hint})` : ''}`);
        refresh();
      })
      .finally(() => setBusy(null));
  };

  const items = loaded.id === constellationId ? loaded.items : [];
  if (items.length === 0) return null;
  return (
    <section className="proposals-panel" data-testid="proposals-panel">
      <h2>Replan proposals</h2>
      {error && (
        <div className="inline-error" data-testid="proposal-error">
          {error}
        </div>
      )}
      <ul>
        {[...items].reverse().map((p) => (
          <li
            key={p.id}
            className={`proposal proposal-${p.status}`}
            data-testid={`proposal-${p.id}`}
            data-status={p.status}
          >
            <div className="proposal-head">
              <span className="mono">{p.id}</span>
              <span className="proposal-status" data-testid="proposal-status">
                {p.status}
              </span>
              <span className="muted small">
                {p.trigger === 'failure' ? `after ${p.taskId} failed` : 'on request'} · {p.planner}
                {p.model ? ` (${p.model})` : ''} · rev {p.revision} · {formatDateTime(p.createdAt)}
              </span>
              {p.status === 'pending' && (
                <span className="proposal-actions" title={perm.reason ?? undefined}>
                  <button
                    type="button"
                    disabled={!perm.canSteer || busy !== null}
                    onClick={() => decide(p.id, 'approve')}
                    data-testid="proposal-approve"
                  >
                    Approve
                  </button>
                  <button
                    type="button"
                    className="danger"
                    disabled={!perm.canSteer || busy !== null}
                    onClick={() => decide(p.id, 'reject')}
                    data-testid="proposal-reject"
                  >
                    Reject
                  </button>
                </span>
              )}
            </div>
            <div className="proposal-comment">{p.comment}</div>
            <ul className="proposal-ops mono small">
              {p.operations.map((op, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: operations are a fixed list
                <li key={i}>{describeOperation(op)}</li>
              ))}
            </ul>
            {p.decidedAt && (
              <div className="muted small">
                {p.status} by {p.decidedBy} at {formatDateTime(p.decidedAt)}
                {p.error ? `: ${p.error}` : ''}
              </div>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
