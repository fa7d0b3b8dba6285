// Live view of devices: who is connected, their capabilities, load and
// liveness. Fed by AIP sessions; read by the scheduler and the API.
import type { Capabilities, Heartbeat, ServerSession } from '@orrery/protocol';
import type { DeviceView } from '../api/live-events.js';
import { splitKey } from './sched-mapping.js';

export type DeviceStatus = DeviceView['status'];

export interface DeviceEntry {
  id: string;
  name: string;
  status: DeviceStatus;
  capabilities: Capabilities;
  /** Labels granted at enrollment plus those the agent declares. */
  labels: string[];
  session?: ServerSession;
  transport?: string;
  connectedAt: number | null;
  lastHeartbeatAt: number | null;
  /** Attempts currently placed on this device, by task key. */
  running: Map<string, number>;
  load?: Heartbeat;
  /** Draining was asked by an operator (survives reconnects). */
  drainRequested: boolean;
  /** Labels granted at enrollment (the agent's own come with its capabilities). */
  grantedLabels: string[];
  /** Set by heartbeat() when new capabilities arrived; the caller clears it. */
  capabilitiesChanged?: boolean;
}

export class DeviceRegistry {
  private readonly byId = new Map<string, DeviceEntry>();

  get(id: string): DeviceEntry | undefined {
    return this.byId.get(id);
  }

  /** Finds a device by id, or by name when no id matches. */
  find(idOrName: string): DeviceEntry | undefined {
    const direct = this.byId.get(idOrName);
    if (direct) return direct;
    for (const d of this.byId.values()) if (d.name === idOrName) return d;
    return undefined;
  }

  all(): IterableIterator<DeviceEntry> {
    return this.byId.values();
  }

  /** A device known only from the journal (after a restart), until it reconnects. */
  placeholder(id: string, now: number, graceMs: number): DeviceEntry {
    const entry: DeviceEntry = {
      id,
      name: id,
      status: 'offline',
      capabilities: { os: '', arch: '', labels: [], features: [], slots: 0, cpus: 0, memoryMb: 0, gpus: 0, executors: [], hostname: '' },
      labels: [],
      connectedAt: null,
      // A heartbeat "in the future": after a restart, agents get extra time to
      // reconnect (their backoff) before their work is declared lost and rerun.
      lastHeartbeatAt: now + graceMs,
      running: new Map(),
      drainRequested: false,
      grantedLabels: [],
    };
    this.byId.set(id, entry);
    return entry;
  }

  connect(session: ServerSession, grantedLabels: string[], now: number, transport?: string): DeviceEntry {
    const hello = session.hello;
    const caps = hello.capabilities;
    const labels = [...new Set([...grantedLabels, ...(caps.labels ?? [])])];
    const existing = this.byId.get(session.deviceId);
    const entry: DeviceEntry = existing ?? {
      id: session.deviceId,
      name: hello.deviceName || session.deviceId,
      status: 'online',
      capabilities: caps,
      labels,
      connectedAt: now,
      lastHeartbeatAt: now,
      running: new Map(),
      drainRequested: false,
      grantedLabels,
    };
    entry.grantedLabels = grantedLabels;
    entry.name = hello.deviceName || entry.name;
    entry.capabilities = caps;
    entry.labels = labels;
    entry.session = session;
    entry.transport = transport;
    entry.connectedAt = now;
    entry.lastHeartbeatAt = now;
    entry.status = entry.drainRequested ? 'draining' : 'online';
    this.byId.set(entry.id, entry);
    return entry;
  }

  heartbeat(id: string, hb: Heartbeat, now: number): DeviceEntry | undefined {
    const d = this.byId.get(id);
    if (!d) return undefined;
    d.lastHeartbeatAt = now;
    const { capabilities, ...load } = hb;
    d.load = load;
    // A heartbeat carries capabilities only when they changed (os '' = absent).
    if (capabilities?.os) {
      d.capabilities = capabilities;
      d.labels = [...new Set([...d.grantedLabels, ...(capabilities.labels ?? [])])];
      d.capabilitiesChanged = true;
    }
    return d;
  }

  /** Devices whose last heartbeat is older than `lostAfterMs`. */
  *overdue(now: number, lostAfterMs: number): Generator<DeviceEntry> {
    for (const d of this.byId.values()) {
      const watched = d.status === 'online' || d.status === 'draining' || (d.status === 'offline' && d.running.size > 0);
      if (watched && d.lastHeartbeatAt !== null && now - d.lastHeartbeatAt > lostAfterMs) {
        yield d;
      }
    }
  }

  view(d: DeviceEntry): DeviceView {
    return {
      id: d.id,
      name: d.name,
      status: d.status,
      labels: d.labels,
      os: d.capabilities.os,
      arch: d.capabilities.arch,
      features: d.capabilities.features ?? [],
      slots: d.capabilities.slots,
      running: d.running.size,
      lastHeartbeatAt: d.lastHeartbeatAt,
      connectedAt: d.connectedAt,
      // Everything the agent probed (cpus, memory, gpus, executors, and any newer fields), as it sent it.
      capabilities: { ...d.capabilities, labels: d.labels },
      runningTasks: [...d.running].map(([key, attempt]) => {
        const [constellationId, taskId] = splitKey(key);
        return { constellationId, taskId, attempt };
      }),
      ...(d.transport ? { transport: d.transport } : {}),
      ...(d.load
        ? { load: { batteryPercent: d.load.batteryPercent, thermalCelsius: d.load.thermalCelsius, loadAvg: d.load.loadAvg } }
        : {}),
    };
  }
}
