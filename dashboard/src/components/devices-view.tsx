import { useState } from 'react';
import type { ApiError } from '../api/api-error.js';
import { api } from '../api/client.js';
import type { DeviceView } from '../api/types.js';
import { formatAge } from '../format/time.js';
import type { Devices } from '../state/use-devices.js';
import { useNow } from '../state/use-now.js';
import { StatusBadge } from './status-badge.js';

function loadText(d: DeviceView): string {
  const parts: string[] = [];
  const l = d.load;
  if (!l) return '';
  const avg = Array.isArray(l.loadAvg) ? l.loadAvg[0] : l.loadAvg;
  if (typeof avg === 'number' && avg >= 0) parts.push(`load ${avg.toFixed(2)}`);
  // Agents report -1 where a reading is unknown (no battery, no sensor).
  if (typeof l.batteryPercent === 'number' && l.batteryPercent >= 0)
    parts.push(`battery ${Math.round(l.batteryPercent)}%`);
  if (typeof l.thermalCelsius === 'number' && l.thermalCelsius >= 0) parts.push(`${Math.round(l.thermalCelsius)}°C`);
  return parts.join(' · ');
}

export function DevicesView({ devices }: { devices: Devices }) {
  const now = useNow(1000);
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
              <th>features</th>
              <th>running</th>
              <th>heartbeat</th>
              <th>load</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sorted.map((d) => (
              <tr key={d.id} data-testid={`device-row-${d.name}`} data-device-id={d.id} data-status={d.status}>
                <td>
                  <div>{d.name}</div>
                  <div className="muted mono small">
                    {d.id}
                    {d.transport ? ` · ${d.transport}` : ''}
                  </div>
                </td>
                <td>
                  <StatusBadge status={d.status} />
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
                  {(d.features ?? []).map((f) => (
                    <span key={f} className="chip feature">
                      {f}
                    </span>
                  ))}
                </td>
                <td>
                  <SlotMeter running={d.running} slots={d.slots} />
                </td>
                <td className={heartbeatClass(d, now)}>{formatAge(d.lastHeartbeatAt, now)}</td>
                <td className="muted small">{loadText(d)}</td>
                <td>
                  <button
                    type="button"
                    disabled={d.status !== 'online'}
                    onClick={() => drain(d.id)}
                    data-testid={`device-drain-${d.name}`}
                    title="Finish running tasks, take no new ones"
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
