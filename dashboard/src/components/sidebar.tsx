import type { ConstellationSummary } from '../api/types.js';
import { formatAge } from '../format/time.js';
import { useNow } from '../state/use-now.js';
import { ProgressCounts } from './progress-counts.js';
import { StatusBadge } from './status-badge.js';

interface Props {
  items: ConstellationSummary[];
  error: string | null;
  selectedId: string | null;
  onSelect: (id: string) => void;
}

export function Sidebar({ items, error, selectedId, onSelect }: Props) {
  const now = useNow(5000);
  return (
    <aside className="sidebar" data-testid="constellation-list">
      <div className="sidebar-title">
        Constellations <span className="muted">{items.length}</span>
      </div>
      {error && <div className="sidebar-error">{error}</div>}
      {items.length === 0 && !error && <div className="empty">Nothing submitted yet.</div>}
      <ul>
        {items.map((c) => (
          <li key={c.id}>
            <button
              type="button"
              className={c.id === selectedId ? 'c-item selected' : 'c-item'}
              data-testid={`constellation-item-${c.id}`}
              data-status={c.status}
              onClick={() => onSelect(c.id)}
            >
              <div className="c-item-top">
                <span className="c-name" title={c.name}>
                  {c.name}
                </span>
                <StatusBadge status={c.status} />
              </div>
              <ProgressCounts counts={c.counts} compact />
              <div className="c-meta muted">
                {c.id} · {formatAge(c.createdAt, now)}
              </div>
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
