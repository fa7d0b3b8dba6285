// Learned runtimes. Per (device, kind): the plain mean of the first 1/alpha
// samples, then an exponentially weighted moving average. Per device: a speed
// factor, the moving average of (observed runtime / the kind's normalised
// mean), 1 = average. Per kind: the normalised mean, each device's average
// divided by its speed factor, i.e. what the kind takes on an average device.
//
// Estimate for (device, kind): the device's own average if it ran the kind;
// else normalised mean × the device's speed factor; a device with no speed
// factor yet is guessed a bit faster than the fastest device seen, so every
// device gets tried once instead of the first one to report staying the only
// one ever chosen. Kinds may carry an estimate class after a colon
// (`shell:build`): samples also feed the bare executor kind (`shell`), and a
// class never seen is estimated from it. A kind never seen at all takes the
// default (× speed factor). O(1) per sample and per estimate.

const MAX_KINDS = 50_000;

interface DeviceAvg {
  value: number;
  samples: number;
  /** value / speed factor at the last update: this device's sample on an average device. */
  norm: number;
}

/** Everything known about one kind; fetched once per placement, then one Map lookup per device. */
export interface KindStats {
  byDevice: Map<string, DeviceAvg>;
  normSum: number;
}

export class RuntimeEstimator {
  private readonly kinds = new Map<string, KindStats>();
  private readonly speed = new Map<string, { value: number; samples: number }>();

  constructor(
    private readonly alpha: number,
    private readonly defaultMs: number,
    /** Multiplier for a device with no history at all (< 1: try it). */
    private readonly unknownDeviceFactor = 0.9,
  ) {}

  /** Feeds one observed runtime. */
  observe(deviceId: string, kind: string, runtimeMs: number): void {
    if (!Number.isFinite(runtimeMs) || runtimeMs < 0) return;
    const k = this.kindStats(kind);
    const parentName = parentKind(kind);
    const parent = parentName === undefined ? undefined : this.kindStats(parentName);
    // Against the reference before this sample, so a first sample does not compare with itself.
    const ref = normMean(k) ?? (parent ? normMean(parent) : undefined);
    if (ref !== undefined && ref > 0) this.bumpSpeed(deviceId, runtimeMs / ref);
    this.add(k, deviceId, runtimeMs);
    if (parent) this.add(parent, deviceId, runtimeMs);
  }

  /** Stats for a kind, or for its executor kind if the class is new; undefined if neither was seen. */
  stats(kind: string): KindStats | undefined {
    const k = this.kinds.get(kind);
    if (k) return k;
    const parent = parentKind(kind);
    return parent === undefined ? undefined : this.kinds.get(parent);
  }

  /** Estimated runtime (ms) of `kind` on `deviceId`. */
  estimate(deviceId: string, kind: string): number {
    return this.estimateWith(this.stats(kind), deviceId);
  }

  estimateWith(k: KindStats | undefined, deviceId: string): number {
    const own = k?.byDevice.get(deviceId);
    if (own) return own.value;
    const factor = this.speed.get(deviceId)?.value;
    const mean = k ? normMean(k) : undefined;
    if (factor !== undefined) return (mean ?? this.defaultMs) * factor;
    if (!k || k.byDevice.size === 0) return this.defaultMs;
    let fastest = Number.POSITIVE_INFINITY;
    for (const e of k.byDevice.values()) fastest = Math.min(fastest, e.value);
    return fastest * this.unknownDeviceFactor;
  }

  /** What a kind takes on an average device: for device-independent guesses (deadlines, rank). */
  kindEstimate(kind: string): number {
    const k = this.stats(kind);
    return (k ? normMean(k) : undefined) ?? this.defaultMs;
  }

  forgetDevice(deviceId: string): void {
    this.speed.delete(deviceId);
    // Per-(device, kind) averages stay: a device that reconnects keeps its history.
  }

  private add(k: KindStats, deviceId: string, runtimeMs: number): void {
    const factor = this.speed.get(deviceId)?.value ?? 1;
    const prev = k.byDevice.get(deviceId);
    if (prev) {
      k.normSum -= prev.norm;
      prev.samples++;
      // Plain mean over the first 1/alpha samples, then a moving average: early estimates stay steady.
      prev.value += Math.max(this.alpha, 1 / prev.samples) * (runtimeMs - prev.value);
      prev.norm = prev.value / factor;
      k.normSum += prev.norm;
    } else {
      const norm = runtimeMs / factor;
      k.byDevice.set(deviceId, { value: runtimeMs, samples: 1, norm });
      k.normSum += norm;
    }
  }

  private kindStats(kind: string): KindStats {
    let k = this.kinds.get(kind);
    if (!k) {
      // Bounded memory: past the cap, forget the kind learned longest ago.
      if (this.kinds.size >= MAX_KINDS) {
        const oldest = this.kinds.keys().next().value;
        if (oldest !== undefined) this.kinds.delete(oldest);
      }
      k = { byDevice: new Map(), normSum: 0 };
      this.kinds.set(kind, k);
    }
    return k;
  }

  private bumpSpeed(deviceId: string, sample: number): void {
    const e = this.speed.get(deviceId);
    if (e) {
      e.samples++;
      e.value += Math.max(this.alpha, 1 / e.samples) * (sample - e.value);
    } else this.speed.set(deviceId, { value: sample, samples: 1 });
  }
}

function normMean(k: KindStats): number | undefined {
  return k.byDevice.size > 0 ? k.normSum / k.byDevice.size : undefined;
}

/** `shell:build` → `shell`; undefined for a bare kind. */
function parentKind(kind: string): string | undefined {
  const i = kind.indexOf(':');
  return i > 0 ? kind.slice(0, i) : undefined;
}
