// Learned runtimes: an exponentially weighted moving average per (device,
// kind). A device that never ran a kind is estimated from the kind's mean
// across devices, scaled by how fast that device has been relative to the
// mean on other kinds (its speed factor). A device with no speed factor yet is
// guessed optimistically (a bit faster than the fastest device seen), so every
// device gets tried once instead of the first one to report staying the only
// one ever chosen.
// A kind never seen falls back to the default. O(1) per sample and estimate.

interface Ewma {
  value: number;
  samples: number;
}

/** Everything known about one kind; fetched once per placement, then one Map lookup per device. */
export interface KindStats {
  byDevice: Map<string, Ewma>;
  /** Sum of the per-device averages (for the cross-device mean). */
  sum: number;
}

export class RuntimeEstimator {
  private readonly kinds = new Map<string, KindStats>();
  /** Per device: moving average of observed / kind mean (1 = average speed). */
  private readonly speed = new Map<string, Ewma>();

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
    const mean = this.mean(k);
    // Ratio against the mean before this sample, so a first sample does not compare with itself.
    if (mean !== undefined && mean > 0) this.bump(this.speed, deviceId, runtimeMs / mean);
    const prev = k.byDevice.get(deviceId);
    if (prev) {
      k.sum -= prev.value;
      prev.samples++;
      // Plain mean over the first 1/alpha samples, then a moving average: early estimates stay steady.
      prev.value += Math.max(this.alpha, 1 / prev.samples) * (runtimeMs - prev.value);
      k.sum += prev.value;
    } else {
      k.byDevice.set(deviceId, { value: runtimeMs, samples: 1 });
      k.sum += runtimeMs;
    }
  }

  /** Stats for a kind (undefined if never seen): pass to estimateWith() in loops over devices. */
  stats(kind: string): KindStats | undefined {
    return this.kinds.get(kind);
  }

  /** Estimated runtime (ms) of `kind` on `deviceId`. */
  estimate(deviceId: string, kind: string): number {
    return this.estimateWith(this.kinds.get(kind), deviceId);
  }

  estimateWith(k: KindStats | undefined, deviceId: string): number {
    const own = k?.byDevice.get(deviceId);
    if (own) return own.value;
    const factor = this.speed.get(deviceId)?.value;
    if (factor !== undefined) return (this.mean(k) ?? this.defaultMs) * factor;
    if (!k || k.byDevice.size === 0) return this.defaultMs;
    let fastest = Number.POSITIVE_INFINITY;
    for (const e of k.byDevice.values()) fastest = Math.min(fastest, e.value);
    return fastest * this.unknownDeviceFactor;
  }

  /** Mean over devices for a kind, or the default: for device-independent guesses (deadlines). */
  kindEstimate(kind: string): number {
    return this.mean(this.kinds.get(kind)) ?? this.defaultMs;
  }

  forgetDevice(deviceId: string): void {
    this.speed.delete(deviceId);
    // Per-(device, kind) averages stay: a device that reconnects keeps its history.
  }

  private kindStats(kind: string): KindStats {
    let k = this.kinds.get(kind);
    if (!k) {
      k = { byDevice: new Map(), sum: 0 };
      this.kinds.set(kind, k);
    }
    return k;
  }

  private mean(k: KindStats | undefined): number | undefined {
    return k && k.byDevice.size > 0 ? k.sum / k.byDevice.size : undefined;
  }

  private bump(m: Map<string, Ewma>, key: string, sample: number): void {
    const e = m.get(key);
    if (e) {
      e.samples++;
      e.value += Math.max(this.alpha, 1 / e.samples) * (sample - e.value);
    } else m.set(key, { value: sample, samples: 1 });
  }
}
