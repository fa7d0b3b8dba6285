import { useMemo, useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import { type Constellation, type DeviceView, TERMINAL_CONSTELLATION_STATUSES } from '../api/types.js';
import { formatDateTime } from '../format/time.js';
import { DagView } from '../graph/dag-view.js';
import type { ConstellationHandle } from '../state/use-constellation.js';
import { countStatuses, ProgressCounts } from './progress-counts.js';
import { StatusBadge } from './status-badge.js';
import { TaskDrawer } from './task-drawer.js';
import type { ConstellationTab } from '../state/use-route.js';
import { usePermissions } from '../state/permissions.js';
import { EditPanel } from './edit-panel.js';
import { HistoryView } from './history-view.js';
import { ProposalsPanel } from './proposals-panel.js';
import { Timeline } from './timeline.js';

interface Props {
  handle: ConstellationHandle;
  devices: ReadonlyMap<string, DeviceView>;
  tab: ConstellationTab;
  selectedTaskId: string | null;
  onTab: (tab: ConstellationTab) => void;
  onSelectTask: (taskId: string | null) => void;
}

const TABS: ReadonlyArray<[ConstellationTab, string]> = [
  ['graph', 'Graph'],
  ['timeline', 'Timeline'],
  ['history', 'History'],
];

export function ConstellationView({ handle, devices, tab, selectedTaskId, onTab, onSelectTask }: Props) {
  const c = handle.data;
  const [editing, setEditing] = useState(false);
  if (!c) {
    return (
      <main className="main center">
        {handle.error ? (
          <div className="inline-error">Could not load: {handle.error}</div>
        ) : (
          <div className="muted">Loading…</div>
        )}
      </main>
    );
  }
  return (
    <main className="main with-drawer">
      <div className="main-col">
        <Header c={c} onChanged={handle.adopt} editing={editing} onToggleEdit={() => setEditing((v) => !v)} />
        {editing && (
          <EditPanel key={c.id} constellation={c} onChanged={handle.adopt} onClose={() => setEditing(false)} />
        )}
        <ProposalsPanel constellationId={c.id} />
        <div className="tabs">
          {TABS.map(([id, label]) => (
            <button
              key={id}
              type="button"
              className={tab === id ? 'tab active' : 'tab'}
              data-testid={`tab-${id}`}
              onClick={() => onTab(id)}
            >
              {label}
            </button>
          ))}
        </div>
        {tab === 'graph' && (
          <DagView
            key={c.id}
            constellation={c}
            devices={devices}
            selectedTaskId={selectedTaskId}
            onSelectTask={onSelectTask}
          />
        )}
        {tab === 'timeline' && (
          <Timeline constellation={c} devices={devices} selectedTaskId={selectedTaskId} onSelectTask={onSelectTask} />
        )}
        {tab === 'history' && <HistoryView constellation={c} onChanged={handle.adopt} />}
      </div>
      {selectedTaskId && (
        <TaskDrawer
          constellation={c}
          taskId={selectedTaskId}
          devices={devices}
          onClose={() => onSelectTask(null)}
          onChanged={handle.adopt}
        />
      )}
    </main>
  );
}

interface HeaderProps {
  c: Constellation;
  onChanged: (c: Constellation) => void;
  editing: boolean;
  onToggleEdit: () => void;
}

function Header({ c, onChanged, editing, onToggleEdit }: HeaderProps) {
  const perm = usePermissions();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const counts = useMemo(() => countStatuses(Object.values(c.tasks).map((t) => t.status)), [c.tasks]);
  const terminal = TERMINAL_CONSTELLATION_STATUSES.has(c.status);
  const act = (action: 'cancel' | 'pause' | 'resume') => {
    setBusy(true);
    setError(null);
    api
      .control(c.id, action)
      .then(onChanged)
      .catch((err: ApiError) => setError(`${err.code}: ${err.message}`))
      .finally(() => setBusy(false));
  };
  return (
    <header className="c-header" data-testid="constellation-header">
      <div className="c-title">
        <h1 data-testid="constellation-name">{c.name}</h1>
        <StatusBadge status={c.status} testId="constellation-status" />
      </div>
      <div className="c-sub muted">
        <span className="mono">{c.id}</span> · rev <span data-testid="constellation-revision">{c.revision}</span> ·{' '}
        {c.owner} · created {formatDateTime(c.createdAt)}
      </div>
      <div className="c-header-row">
        <ProgressCounts counts={counts} />
        <div className="c-actions" title={perm.reason ?? undefined}>
          <button
            type="button"
            className={editing ? 'active' : undefined}
            disabled={!perm.canSteer || terminal}
            onClick={onToggleEdit}
            data-testid="constellation-edit"
            title={terminal ? 'A finished constellation cannot change' : 'Add a task or a dependency'}
          >
            Edit graph
          </button>
          {c.status === 'paused' ? (
            <button
              type="button"
              disabled={busy || !perm.canSteer}
              onClick={() => act('resume')}
              data-testid="constellation-resume"
            >
              Resume
            </button>
          ) : (
            <button
              type="button"
              disabled={busy || terminal || !perm.canSteer}
              onClick={() => act('pause')}
              data-testid="constellation-pause"
            >
              Pause
            </button>
          )}
          <button
            type="button"
            className="danger"
            disabled={busy || terminal || !perm.canSteer}
            onClick={() => act('cancel')}
            data-testid="constellation-cancel"
          >
            Cancel
          </button>
        </div>
      </div>
      {error && <div className="inline-error">{error}</div>}
      {perm.reason && (
        <div className="read-only-note muted small" data-testid="read-only-reason">
          {perm.reason}
        </div>
      )}
    </header>
  );
}
