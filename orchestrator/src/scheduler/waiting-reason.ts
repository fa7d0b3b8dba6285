// Why a queued task is not placed, in words for the CLI and the dashboard.
// The "no device matches" and "all busy" parts are cached per signature
// group until devices or slot counts change, so asking for every ready task
// of a large graph (as an API read does) stays cheap.
import { explainMismatch } from './constraints.js';
import type { DeviceIndex } from './device-index.js';
import { formatMs } from './format-ms.js';
import type { Entry } from './task-queue.js';

export function describeWait(e: Entry, index: DeviceIndex, round: number, now: number): string {
  if (e.state === 'delayed') {
    const nb = e.task.notBefore ?? 0;
    return nb > now ? `waiting for retry backoff until ${new Date(nb).toISOString()}` : 'retry backoff over; placed at the next scheduling round';
  }
  const sig = e.queue.sig;
  if (!sig.mismatch || sig.mismatch.version !== index.version) {
    const devices = [...index.devices.values()].map((d) => d.dev);
    sig.mismatch = { version: index.version, text: explainMismatch(sig.selector, devices) };
  }
  if (sig.mismatch.text) return sig.mismatch.text;
  if (sig.free.size === 0) {
    if (!sig.busy || sig.busy.version !== index.slotVersion) {
      let used = 0;
      let slots = 0;
      for (const d of sig.devices) {
        used += d.running;
        slots += d.dev.slots;
      }
      const n = sig.devices.size;
      sig.busy = { version: index.slotVersion, text: `${n === 1 ? 'the only matching device is' : `all ${n} matching devices are`} busy (${used}/${slots} slots used)` };
    }
    return sig.busy.text;
  }
  if (e.deferral && e.deferral.round === round) {
    return `waiting for faster device ${e.deferral.deviceName} (expected free in ${formatMs(Math.max(0, e.deferral.until - now))})`;
  }
  const free = sig.free.size;
  return `queued behind higher-ranked tasks; ${free} matching device${free === 1 ? ' has' : 's have'} free slots`;
}
