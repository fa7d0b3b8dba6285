// Devices that refused a task for a reason that will not change while the
// same agent session lasts (its allowlist, an executor it lacks, arguments it
// cannot parse). Such a device is excluded from that task's placement, so a
// refusal is not re-sent the same Assign once a second forever; the refusal
// is forgotten when the device starts a new session (a restarted agent may
// have a new configuration) or when the task leaves the queue for good.
// In memory only: after an orchestrator restart each device is asked again once.

/** Reject codes that mean "this session will refuse this task every time". */
export const LASTING_REJECT_CODES: ReadonlySet<string> = new Set([
  'EXECUTOR_NOT_ALLOWED',
  'COMMAND_NOT_ALLOWED',
  'UNSUPPORTED_EXECUTOR',
  'BAD_ASSIGN',
]);

interface Refusal {
  /** The session that refused; a different session is asked again. */
  session: unknown;
  code: string;
}

export class DeviceRefusals {
  private readonly byTask = new Map<string, Map<string, Refusal>>();
  private readonly byDevice = new Map<string, Set<string>>();

  /** Records a refusal; false when the code is transient (busy, draining) and nothing is kept. */
  record(taskKey: string, deviceId: string, session: unknown, code: string): boolean {
    if (!LASTING_REJECT_CODES.has(code) || session === undefined) return false;
    let devices = this.byTask.get(taskKey);
    if (!devices) {
      devices = new Map();
      this.byTask.set(taskKey, devices);
    }
    devices.set(deviceId, { session, code });
    let tasks = this.byDevice.get(deviceId);
    if (!tasks) {
      tasks = new Set();
      this.byDevice.set(deviceId, tasks);
    }
    tasks.add(taskKey);
    return true;
  }

  /** Devices whose current session refused the task, sorted (they become part of a queue signature). */
  refusedBy(taskKey: string, currentSession: (deviceId: string) => unknown): string[] {
    const devices = this.byTask.get(taskKey);
    if (!devices) return [];
    const out: string[] = [];
    for (const [deviceId, r] of devices) {
      if (r.session === currentSession(deviceId)) out.push(deviceId);
    }
    return out.sort();
  }

  /** A device started a new session: its refusals no longer hold. Returns the tasks it had refused. */
  forgetDevice(deviceId: string): string[] {
    const tasks = this.byDevice.get(deviceId);
    if (!tasks) return [];
    this.byDevice.delete(deviceId);
    for (const key of tasks) {
      const devices = this.byTask.get(key);
      devices?.delete(deviceId);
      if (devices?.size === 0) this.byTask.delete(key);
    }
    return [...tasks];
  }

  /** The task finished or was removed. */
  forgetTask(taskKey: string): void {
    const devices = this.byTask.get(taskKey);
    if (!devices) return;
    this.byTask.delete(taskKey);
    for (const deviceId of devices.keys()) {
      const tasks = this.byDevice.get(deviceId);
      tasks?.delete(taskKey);
      if (tasks?.size === 0) this.byDevice.delete(deviceId);
    }
  }

  get size(): number {
    return this.byTask.size;
  }
}
