import { useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { DeviceView } from '../api/types.js';
import { capabilityEntries, type Entry, loadEntries } from '../format/capabilities.js';
import { formatAge } from '../format/time.js';
import { usePermissions } from '../state/permissions.js';
import { routeHash } from '../state/use-route.js';
import type { Devices } from '../state/use-devices.js';
import { useNow } from '../state/use-now.js';
import { StatusBadge } from './status-badge.js';

export function DevicesView({ devices }: { devices: Devices }) {
  const now = useNow(1000);
  const perm = usePermissions();
  const [error, setError] = useState<string | null>(null);
  const drain = (id: string) => {
    setError(null);
    api
      .drainDevice(id)
      .then(devices.upsert)
      .catch((err: ApiError) => setError(`${err.code}: ${err.message}`));
  };
  const sorted = [...devices.items].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <main className="main page">
      <h1>Devices</h1>
      <DeviceCounts devices={devices.items} />
      {devices.error && <div className="inline-error">{devices.error}</div>}
      {error && <div className="inline-error">{error}</div>}
      {sorted.length === 0 ? (
        <div className="empty">
          No device has connected yet. Start one with <code>orrery agent --server …</code>.
        </div>
      ) : (
        <table className="table devices" data-testid="devices-table">
          <thead>
            <tr>
              <th>name</th>
              <th>status</th>
              <th>labels</th>
              <th>os / arch</th>
              <th>capabilities</th>
              <th>features</th>
              <th>running</th>
              <th>heartbeat</th>
              <th>load</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sorted.map((d) => (
              <tr
                key={d.id}
                className={`device device-${d.status}`}
                data-testid={`device-row-${d.name}`}
                data-device-id={d.id}
                data-status={d.status}
              >
                <td>
                  <div>{d.name}</div>
                  <div className="muted mono small">
                    {d.id}
                    {d.transport ? ` · ${d.transport}` : ''}
                  </div>
                </td>
                <td>
                  <StatusBadge status={d.status} testId={`device-status-${d.name}`} />
                </td>
                <td>
                  {(d.labels ?? []).map((l) => (
                    <span key={l} className="chip">
                      {l}
                    </span>
                  ))}
                </td>
                <td>
                  {d.os} / {d.arch}
                </td>
                <td>
                  <EntryList entries={capabilityEntries(d.capabilities)} testId={`device-caps-${d.name}`} />
                </td>
                <td>
                  {(d.features ?? []).map((f) => (
                    <span key={f} className="chip feature">
                      {f}
                    </span>
                  ))}
                </td>
                <td>
                  <SlotMeter running={d.running} slots={d.slots} />
                  <RunningTasks device={d} />
                </td>
                <td className={heartbeatClass(d, now)} data-testid={`device-heartbeat-${d.name}`}>
                  {formatAge(d.lastHeartbeatAt, now)}
                </td>
                <td>
                  <EntryList entries={loadEntries(d.load)} testId={`device-load-${d.name}`} />
                </td>
                <td>
                  <button
                    type="button"
                    disabled={d.status !== 'online' || !perm.canSteer}
                    onClick={() => drain(d.id)}
                    data-testid={`device-drain-${d.name}`}
                    title={perm.reason ?? 'Finish running tasks, take no new ones'}
                  >
                    Drain
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function heartbeatClass(d: DeviceView, now: number): string {
  if (d.status !== 'online' && d.status !== 'draining') return 'muted';
  if (!d.lastHeartbeatAt) return '';
  return now - d.lastHeartbeatAt > 10_000 ? 'warn' : '';
}

function SlotMeter({ running, slots }: { running: number; slots: number }) {
  return (
    <div className="slots" title={`${running} running of ${slots} slots`}>
      <span className="slots-bar">
        <span
          style={{
            width: `${slots > 0 ? Math.min(100, (running / slots) * 100) : 0}%`,
          }}
        />
      </span>
      {running}/{slots}
    </div>
  );
}

const STATUSES = ['online', 'draining', 'lost', 'offline'] as const;

function DeviceCounts({ devices }: { devices: DeviceView[] }) {
  if (devices.length === 0) return null;
  return (
    <div className="device-counts" data-testid="device-counts">
      {STATUSES.map((st) => {
        const n = devices.filter((d) => d.status === st).length;
        return n > 0 ? (
          <span key={st} className={`count-chip status-${st}`}>
            {n} {st}
          </span>
        ) : null;
      })}
    </div>
  );
}

function EntryList({ entries, testId }: { entries: Entry[]; testId: string }) {
  if (entries.length === 0) return <span className="muted">–</span>;
  return (
    <dl className="entries small" data-testid={testId}>
      {entries.map((e) => (
        <div key={e.key} data-key={e.key}>
          <dt>{e.label}</dt>
          <dd>{e.value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The attempts placed on the device, each a link to its task. */
function RunningTasks({ device }: { device: DeviceView }) {
  const tasks = device.runningTasks ?? [];
  if (tasks.length === 0) return null;
  return (
    <ul className="running-tasks small" data-testid={`device-tasks-${device.name}`}>
      {tasks.map((t) => (
        <li key={`${t.constellationId}/${t.taskId}`}>
          <a
            href={routeHash({ view: 'constellation', id: t.constellationId, tab: 'graph', taskId: t.taskId })}
            title={`constellation ${t.constellationId}, attempt ${t.attempt}`}
          >
            {t.taskId}
          </a>
          {t.attempt > 1 && <span className="muted"> #{t.attempt}</span>}
        </li>
      ))}
    </ul>
  );
}
