import { useEffect, useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import { type Constellation, type DeviceView, TERMINAL_TASK_STATUSES } from '../api/types.js';
import { formatClock, formatDuration } from '../format/time.js';
import { LogView } from './log-view.js';
import { StatusBadge } from './status-badge.js';

interface Props {
  constellation: Constellation;
  taskId: string;
  devices: ReadonlyMap<string, DeviceView>;
  onClose: () => void;
  onChanged: (c: Constellation) => void;
}

function describeTarget(t: Constellation['tasks'][string]['spec']['target']): string {
  const parts: string[] = [];
  if (t.device) parts.push(`device=${t.device}`);
  if (t.labels?.length) parts.push(`labels=${t.labels.join(',')}`);
  if (t.os) parts.push(`os=${t.os}`);
  if (t.arch) parts.push(`arch=${t.arch}`);
  if (t.capabilities?.length) parts.push(`capabilities=${t.capabilities.join(',')}`);
  if (t.minCpus) parts.push(`cpus≥${t.minCpus}`);
  if (t.minMemoryMb) parts.push(`memory≥${t.minMemoryMb} MB`);
  if (t.gpus) parts.push(`gpus=${t.gpus}`);
  return parts.length ? parts.join(' · ') : 'any device';
}

/** Everything about one task: its spec, state, outputs, attempts and live logs. */
export function TaskDrawer({ constellation, taskId, devices, onClose, onChanged }: Props) {
  const task = constellation.tasks[taskId];
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const latest = task?.attempts[task.attempts.length - 1]?.number;
  const [pickedAttempt, setPickedAttempt] = useState<number | null>(null);
  const shownAttempt = pickedAttempt ?? latest;

  // A different task starts on its latest attempt with no stale error.
  // biome-ignore lint/correctness/useExhaustiveDependencies: taskId is the trigger
  useEffect(() => {
    setPickedAttempt(null);
    setActionError(null);
  }, [taskId]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  if (!task) {
    return (
      <aside className="drawer" data-testid="task-drawer">
        <div className="drawer-head">
          <h2>{taskId}</h2>
          <button type="button" className="icon" onClick={onClose} aria-label="Close">
            ×
          </button>
        </div>
        <p className="muted">This task is not in the constellation (removed by an edit?).</p>
      </aside>
    );
  }

  const run = (fn: () => Promise<Constellation>) => {
    setBusy(true);
    setActionError(null);
    fn()
      .then(onChanged)
      .catch((err: ApiError) => setActionError(`${err.code ?? 'ERROR'}: ${err.message}`))
      .finally(() => setBusy(false));
  };
  const terminal = TERMINAL_TASK_STATUSES.has(task.status);
  const spec = task.spec;
  const outputs = Object.entries(task.outputs ?? {});
  const deviceName = (id: string) => devices.get(id)?.name ?? id;

  return (
    <aside className="drawer" data-testid="task-drawer" data-task-id={taskId}>
      <div className="drawer-head">
        <div>
          <h2 title={taskId}>{spec.name || taskId}</h2>
          <div className="muted mono">{taskId}</div>
        </div>
        <StatusBadge status={task.status} testId="task-status" />
        <button type="button" className="icon" onClick={onClose} aria-label="Close drawer">
          ×
        </button>
      </div>

      <div className="drawer-actions">
        <button
          type="button"
          data-testid="task-retry"
          disabled={busy || !terminal || task.status === 'succeeded'}
          onClick={() => run(() => api.retryTask(constellation.id, taskId))}
        >
          Retry
        </button>
        <button
          type="button"
          className="danger"
          data-testid="task-cancel"
          disabled={busy || terminal}
          onClick={() =>
            run(() =>
              api.edit(constellation.id, {
                revision: constellation.revision,
                operations: [{ op: 'cancel_task', taskId }],
              }),
            )
          }
        >
          Cancel
        </button>
      </div>
      {actionError && <div className="inline-error">{actionError}</div>}

      {task.waitingReason && !terminal && (
        <div className="waiting" data-testid="waiting-reason">
          <strong>waiting:</strong> {task.waitingReason}
        </div>
      )}
      {task.progress && task.status === 'running' && (
        <div className="muted">
          {Math.round(task.progress.fraction * 100)}% {task.progress.message}
        </div>
      )}

      <section>
        <h3>Spec</h3>
        <dl className="kv">
          <dt>executor</dt>
          <dd>{spec.executor.kind}</dd>
          {spec.executor.command !== undefined && (
            <>
              <dt>command</dt>
              <dd>
                <code className="block">{spec.executor.command}</code>
              </dd>
            </>
          )}
          {spec.executor.args && Object.keys(spec.executor.args).length > 0 && (
            <>
              <dt>args</dt>
              <dd>
                <code className="block">{JSON.stringify(spec.executor.args, null, 2)}</code>
              </dd>
            </>
          )}
          <dt>target</dt>
          <dd>{describeTarget(spec.target ?? {})}</dd>
          <dt>retries</dt>
          <dd>
            {spec.retry?.max ?? 0}
            {spec.retry && spec.retry.max > 0 && (
              <span className="muted">
                {' '}
                (backoff {formatDuration(spec.retry.initialBackoffMs)} ×{spec.retry.multiplier}, max{' '}
                {formatDuration(spec.retry.maxBackoffMs)})
              </span>
            )}
          </dd>
          <dt>timeout</dt>
          <dd>{spec.timeoutMs ? formatDuration(spec.timeoutMs) : 'none'}</dd>
          {spec.priority ? (
            <>
              <dt>priority</dt>
              <dd>{spec.priority}</dd>
            </>
          ) : null}
          {spec.description && (
            <>
              <dt>about</dt>
              <dd>{spec.description}</dd>
            </>
          )}
        </dl>
      </section>

      <section>
        <h3>Outputs</h3>
        {outputs.length === 0 ? (
          <div className="muted">{terminal ? 'none' : 'none yet'}</div>
        ) : (
          <dl className="kv" data-testid="task-outputs">
            {outputs.map(([k, v]) => (
              <div key={k} className="kv-row">
                <dt>{k}</dt>
                <dd>
                  <code>{v}</code>
                </dd>
              </div>
            ))}
          </dl>
        )}
      </section>

      <section>
        <h3>Attempts</h3>
        {task.attempts.length === 0 ? (
          <div className="muted">not started</div>
        ) : (
          <table className="table attempts" data-testid="task-attempts">
            <thead>
              <tr>
                <th>#</th>
                <th>device</th>
                <th>started</th>
                <th>took</th>
                <th>outcome</th>
                <th>exit</th>
              </tr>
            </thead>
            <tbody>
              {task.attempts.map((a) => (
                <tr
                  key={a.number}
                  className={a.number === shownAttempt ? 'current' : undefined}
                  onClick={() => setPickedAttempt(a.number === latest ? null : a.number)}
                  title={[a.placement && `placement: ${a.placement}`, a.error && `error: ${a.error}`]
                    .filter(Boolean)
                    .join('\n')}
                >
                  <td>{a.number}</td>
                  <td>{deviceName(a.deviceId)}</td>
                  <td
                    title={`assigned ${formatClock(a.assignedAt)}, started ${formatClock(a.startedAt)}, ended ${formatClock(a.endedAt)}`}
                  >
                    {formatClock(a.startedAt ?? a.assignedAt).slice(0, 8)}
                  </td>
                  <td>
                    {a.endedAt ? (
                      formatDuration(a.endedAt - (a.startedAt ?? a.assignedAt))
                    ) : (
                      <span className="muted">…</span>
                    )}
                  </td>
                  <td>{a.outcome ? <StatusBadge status={a.outcome} /> : <span className="muted">live</span>}</td>
                  <td className="mono">{a.exitCode ?? '–'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {task.attempts.map((a) =>
          a.number === shownAttempt && (a.placement || a.error) ? (
            <div key={a.number} className="placement">
              {a.placement && (
                <div>
                  <span className="muted">placement:</span> {a.placement}
                </div>
              )}
              {a.error && (
                <div className="error-text">
                  <span className="muted">error:</span> {a.error}
                </div>
              )}
            </div>
          ) : null,
        )}
      </section>

      <section className="grow">
        <h3>
          Logs
          {shownAttempt !== undefined && <span className="muted"> · attempt {shownAttempt}</span>}
          {pickedAttempt !== null && (
            <button type="button" className="link" onClick={() => setPickedAttempt(null)}>
              show latest
            </button>
          )}
        </h3>
        <LogView constellationId={constellation.id} taskId={taskId} attempt={shownAttempt} />
      </section>
    </aside>
  );
}
