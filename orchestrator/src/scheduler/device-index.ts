// Devices and the signature groups they match. Keeps, per group, the set of
// matching online devices and the subset with a free slot, so a placement only
// ever looks at free, feasible devices. Static matching runs when a device's
// attributes change (O(groups)) or a new selector appears (O(devices)); slot
// changes only flip free-set membership (O(groups the device matches)).
import { matchesSelector, selectorSignature } from './constraints.js';
import { SchedulerError } from './errors.js';
import { type DeviceState, SigGroup } from './task-queue.js';
import type { SchedDevice, SchedTarget } from './types.js';

const SIG_GC_THRESHOLD = 1024;

export class DeviceIndex {
  readonly devices = new Map<string, DeviceState>();
  readonly sigs = new Map<string, SigGroup>();
  private readonly sigCache = new WeakMap<SchedTarget, SigGroup>();
  /** Bumped whenever the set of online devices or their attributes change (waiting-reason cache key). */
  version = 0;
  /** Free slots over all online devices; exact. */
  freeSlots = 0;
  /** Bumped on every slot-count change (cache key for "all devices busy" texts). */
  slotVersion = 0;
  /** Group count that triggers the next garbage collection (doubles with use, so GC stays amortised O(1)). */
  private gcAt = SIG_GC_THRESHOLD;

  /** @param inUse groups that still have queued or delayed tasks (kept by garbage collection). */
  constructor(private readonly inUse: () => Set<SigGroup>) {}

  upsert(d: SchedDevice): DeviceState {
    if (!d.id || !Number.isInteger(d.slots) || d.slots < 0) {
      throw new SchedulerError('SCHED_BAD_DEVICE', `device ${d.id || '(no id)'} needs an id and a whole, non-negative slot count`);
    }
    const dev: SchedDevice = { ...d, labels: [...d.labels], features: [...d.features] };
    const prev = this.devices.get(d.id);
    if (prev && sameStatic(prev.dev, dev)) {
      prev.dev = dev; // only slots changed (or nothing): heartbeats land here, no re-matching
      this.refreshFree(prev);
      return prev;
    }
    this.version++;
    const ds: DeviceState = prev ?? { dev, running: 0, sigs: new Set(), placed: new Map(), inFree: false, freeCounted: 0 };
    this.detach(ds);
    ds.dev = dev;
    this.devices.set(dev.id, ds);
    if (dev.status === 'online') {
      for (const sig of this.sigs.values()) if (matchesSelector(sig.selector, dev)) this.attach(ds, sig);
    }
    this.refreshFree(ds);
    return ds;
  }

  /** Unlinks a device (its placements must have been released first). */
  remove(id: string): void {
    const ds = this.devices.get(id);
    if (!ds) return;
    this.version++;
    this.detach(ds);
    this.devices.delete(id);
  }

  sigFor(sel: SchedTarget): SigGroup {
    const cached = this.sigCache.get(sel);
    if (cached && this.sigs.get(cached.key) === cached) return cached;
    const key = selectorSignature(sel);
    let sig = this.sigs.get(key);
    if (!sig) {
      if (this.sigs.size >= this.gcAt) {
        this.gc();
        this.gcAt = Math.max(SIG_GC_THRESHOLD, 2 * this.sigs.size);
      }
      sig = new SigGroup(key, structuredClone(sel));
      this.sigs.set(key, sig);
      for (const d of this.devices.values()) {
        if (d.dev.status === 'online' && matchesSelector(sig.selector, d.dev)) this.attach(d, sig);
      }
    }
    this.sigCache.set(sel, sig);
    return sig;
  }

  /** Re-evaluates whether a device can take one more task (after running or slots changed). */
  refreshFree(d: DeviceState): void {
    const online = d.dev.status === 'online' && this.devices.get(d.dev.id) === d;
    this.setFree(d, online && d.running < d.dev.slots);
  }

  /** Drops groups with nothing queued or delayed, so one-off selectors do not pile up. */
  private gc(): void {
    const keep = this.inUse();
    for (const [key, sig] of this.sigs) {
      if (keep.has(sig)) continue;
      for (const d of sig.devices) d.sigs.delete(sig);
      this.sigs.delete(key);
    }
  }

  private attach(d: DeviceState, sig: SigGroup): void {
    d.sigs.add(sig);
    sig.devices.add(d);
    if (d.inFree) sig.free.add(d);
  }

  private detach(d: DeviceState): void {
    this.setFree(d, false);
    for (const sig of d.sigs) {
      sig.devices.delete(d);
      sig.free.delete(d);
    }
    d.sigs.clear();
  }

  private setFree(d: DeviceState, free: boolean): void {
    const count = free ? Math.max(0, d.dev.slots - d.running) : 0;
    this.slotVersion++;
    this.freeSlots += count - d.freeCounted;
    d.freeCounted = count;
    if (free === d.inFree) return;
    d.inFree = free;
    for (const sig of d.sigs) {
      if (free) sig.free.add(d);
      else sig.free.delete(d);
    }
  }
}

function sameStatic(a: SchedDevice, b: SchedDevice): boolean {
  return (
    a.name === b.name &&
    a.os === b.os &&
    a.arch === b.arch &&
    a.status === b.status &&
    a.cpus === b.cpus &&
    a.memoryMb === b.memoryMb &&
    a.gpus === b.gpus &&
    sameList(a.labels, b.labels) &&
    sameList(a.features, b.features)
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
