// Device liveness and reconciliation: who is online, who is lost, and what
// a reconnecting device still runs. Changes state only through the engine.
import type { Heartbeat, ServerSession } from '@orrery/protocol';
import type { DeviceEntry } from './device-registry.js';
import type { Engine } from './engine.js';
import { splitKey, taskKey, toSchedDevice } from './sched-mapping.js';

/** Heartbeats reach live views at most this often per device (load and heartbeat age, not a flood). */
const HEARTBEAT_PUBLISH_MS = 5000;

export class DeviceLifecycle {
  private readonly heartbeatPublishedAt = new Map<string, number>();

  constructor(private readonly engine: Engine) {}

  /** Marks devices that missed their heartbeats as lost and requeues their work. */
  checkLiveness(): void {
    const now = this.engine.now();
    for (const d of [...this.engine.devices.overdue(now, this.engine.lostAfterMs)]) {
      this.engine.log.warn({ device: d.name, id: d.id, lastHeartbeatMs: now - (d.lastHeartbeatAt ?? now) }, 'device lost: missed heartbeats');
      this.engine.metrics.devicesLost++;
      d.status = 'lost';
      this.engine.scheduler.upsertDevice(toSchedDevice(d));
      for (const [key, attempt] of [...d.running]) this.engine.loseAttempt(d, key, attempt, `device ${d.name} lost (no heartbeat for ${now - (d.lastHeartbeatAt ?? now)} ms)`);
      this.engine.publish({ type: 'device', data: this.engine.devices.view(d) });
    }
  }

  /** A heartbeat; a device declared lost that is heard from again comes back. */
  heartbeat(id: string, hb: Heartbeat): void {
    const now = this.engine.now();
    const d = this.engine.devices.heartbeat(id, hb, now);
    if (!d) return;
    const back = d.status === 'lost' && d.session !== undefined;
    if (!back && !d.capabilitiesChanged) {
      // Load and heartbeat age for live views, at most every HEARTBEAT_PUBLISH_MS per device.
      if (d.status !== 'lost' && now - (this.heartbeatPublishedAt.get(id) ?? 0) >= HEARTBEAT_PUBLISH_MS) {
        this.heartbeatPublishedAt.set(id, now);
        this.engine.publish({ type: 'device', data: this.engine.devices.view(d) });
      }
      return;
    }
    if (d.capabilitiesChanged) {
      // New capabilities (charging, a GPU, disk space...): placement may change.
      d.capabilitiesChanged = false;
      this.engine.log.info({ device: d.name, features: d.capabilities.features }, 'device capabilities changed');
    }
    if (back) {
      d.status = d.drainRequested ? 'draining' : 'online';
      this.engine.log.info({ device: d.name }, 'device heard from again; back online');
    }
    this.heartbeatPublishedAt.set(id, now);
    this.engine.scheduler.upsertDevice(toSchedDevice(d));
    this.engine.publish({ type: 'device', data: this.engine.devices.view(d) });
    this.engine.scheduleFlush();
  }

  /** A device connected (new session or resumed). */
  connected(session: ServerSession, grantedLabels: string[], resumed: boolean, transport?: string): DeviceEntry {
    const now = this.engine.now();
    const d = this.engine.devices.connect(session, grantedLabels, now, transport);
    this.engine.scheduler.upsertDevice(toSchedDevice(d));
    if (!resumed) {
      this.reconcile(d, session);
      this.engine.forgetRefusals(d.id);
    }
    this.engine.publish({ type: 'device', data: this.engine.devices.view(d) });
    this.engine.scheduleFlush();
    return d;
  }

  /** A fresh session: attempts we think run there but the agent does not know are lost. */
  private reconcile(d: DeviceEntry, session: ServerSession): void {
    const reported = new Map<string, { attempt: number; state: string }>();
    for (const r of session.hello.running ?? []) reported.set(taskKey(r.constellationId, r.taskId), { attempt: r.attempt, state: r.state });
    for (const [key, attempt] of [...d.running]) {
      const r = reported.get(key);
      if (!r || r.attempt !== attempt) this.engine.loseAttempt(d, key, attempt, `device ${d.name} reconnected without attempt ${attempt}`);
      else if (r.state === 'running') {
        const [cid, tid] = splitKey(key);
        const c = this.engine.state.constellations.get(cid);
        if (c?.tasks[tid]?.status === 'assigned') this.engine.record('task.started', { id: cid, taskId: tid, attempt, startedAt: this.engine.now() });
      }
    }
    for (const [key, r] of reported) {
      if (r.state !== 'running') continue;
      const [cid, tid] = splitKey(key);
      const t = this.engine.state.constellations.get(cid)?.tasks[tid];
      const current = t?.attempts.at(-1);
      const live = t && (t.status === 'assigned' || t.status === 'running') && current?.number === r.attempt && current.deviceId === d.id;
      if (!live) this.engine.sendCancel(d.id, cid, tid, r.attempt, 'attempt superseded while the device was away');
    }
  }

  disconnected(id: string, reason: string, ended: boolean): void {
    const d = this.engine.devices.get(id);
    if (!d) return;
    this.engine.log.info({ device: d.name, reason, ended }, ended ? 'device session ended' : 'device disconnected; may resume');
    if (ended) {
      d.session = undefined;
      if (d.status !== 'lost') d.status = 'offline';
      this.engine.scheduler.upsertDevice(toSchedDevice(d));
      // Work it held is not rerun yet: a new session usually follows at once
      // (a replaced session ends before its successor says what still runs).
      // If none comes, the liveness check declares the device lost.
      this.engine.publish({ type: 'device', data: this.engine.devices.view(d) });
    }
  }
}
