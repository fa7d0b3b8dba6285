import { useEffect, useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import { type Constellation, type DeviceView, TERMINAL_TASK_STATUSES, type TaskDetail } from '../api/types.js';
import { usePermissions } from '../state/permissions.js';
import { formatClock, formatDuration } from '../format/time.js';
import { ArtifactsSection } from './artifacts-section.js';
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
  const perm = usePermissions();
  const resolved = useResolved(constellation.id, taskId, task?.status, task?.attempts.length ?? 0);

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

      <div className="drawer-actions" title={perm.reason ?? undefined}>
        <button
          type="button"
          data-testid="task-retry"
          disabled={busy || !perm.canSteer || !terminal || task.status === 'succeeded'}
          onClick={() => run(() => api.retryTask(constellation.id, taskId))}
        >
          Retry
        </button>
        <button
          type="button"
          className="danger"
          data-testid="task-cancel"
          disabled={busy || !perm.canSteer || terminal}
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
        <button
          type="button"
          data-testid="task-skip"
          disabled={busy || !perm.canSteer || (task.status !== 'pending' && task.status !== 'ready')}
          title="Skip it without running: dependents treat it as not succeeded"
          onClick={() =>
            run(() =>
              api.edit(constellation.id, {
                revision: constellation.revision,
                operations: [{ op: 'skip_task', taskId }],
              }),
            )
          }
        >
          Skip
        </button>
      </div>
      {perm.reason && (
        <div className="read-only-note muted small" data-testid="task-read-only">
          {perm.reason}
        </div>
      )}
      {actionError && (
        <div className="inline-error" data-testid="task-action-error">
          {actionError}
        </div>
      )}

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

      <ResolvedSection spec={spec} resolved={resolved} />

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

      <ArtifactsSection constellationId={constellation.id} taskId={taskId} task={task} />

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

/**
 * The task's executor and inputs as an attempt receives them (GET .../tasks/:task),
 * fetched again when the task moves on: a retry or a finished upstream can change them.
 */
function useResolved(
  constellationId: string,
  taskId: string,
  status: string | undefined,
  attempts: number,
): TaskDetail['resolved'] | null {
  const [resolved, setResolved] = useState<TaskDetail['resolved'] | null>(null);
  const stage = status === 'pending' || status === undefined ? 'pending' : 'settled';
  // biome-ignore lint/correctness/useExhaustiveDependencies: attempts is a trigger (a retry may read new upstream outputs)
  useEffect(() => {
    if (stage === 'pending') {
      setResolved(null);
      return;
    }
    let cancelled = false;
    api
      .task(constellationId, taskId)
      .then((t) => {
        if (!cancelled) setResolved(t.resolved ?? null);
      })
      .catch(() => {
        // Older servers have no single-task route: the drawer shows the spec only.
        if (!cancelled) setResolved(null);
      });
    return () => {
      cancelled = true;
    };
  }, [constellationId, taskId, stage, attempts]);
  return resolved;
}

/** Only what the templates changed is worth a second look; the rest is the spec again. */
export function ResolvedSection({
  spec,
  resolved,
}: {
  spec: Constellation['tasks'][string]['spec'];
  resolved: TaskDetail['resolved'] | null;
}) {
  const inputs = Object.entries(resolved?.inputs ?? spec.inputs ?? {});
  const env = Object.entries(resolved?.executor.env ?? spec.executor.env ?? {});
  const command = resolved?.executor.command;
  const hasTemplates = JSON.stringify([spec.inputs, spec.executor]).includes('${{');
  if (!hasTemplates && inputs.length === 0 && env.length === 0) return null;
  return (
    <section data-testid="task-resolved">
      <h3>
        Inputs{' '}
        <span className="muted small">
          {resolved ? 'resolved as the attempt receives them' : hasTemplates ? 'resolved once upstreams finish' : ''}
        </span>
      </h3>
      <dl className="kv">
        {inputs.map(([k, v]) => (
          <div key={`i-${k}`} className="kv-row" data-testid={`resolved-input-${k}`}>
            <dt>{k}</dt>
            <dd>
              <code>{v}</code>
            </dd>
          </div>
        ))}
        {env.map(([k, v]) => (
          <div key={`e-${k}`} className="kv-row" data-testid={`resolved-env-${k}`}>
            <dt>env {k}</dt>
            <dd>
              <code>{v}</code>
            </dd>
          </div>
        ))}
        {command !== undefined && command !== spec.executor.command && (
          <div className="kv-row">
            <dt>command</dt>
            <dd>
              <code className="block">{command}</code>
            </dd>
          </div>
        )}
      </dl>
    </section>
  );
}
