// Learned runtimes: an exponentially weighted moving average per (device,
// kind). A device that never ran a kind is estimated from the kind's mean
// across devices, scaled by how fast that device has been relative to the
// mean on other kinds (its speed factor); a kind never seen falls back to the
// default. Everything is O(1) per sample and per estimate.

interface Ewma {
  value: number;
  samples: number;
}

export class RuntimeEstimator {
  private readonly perDeviceKind = new Map<string, Ewma>();
  /** Per kind: sum and count of the per-device averages (for the cross-device mean). */
  private readonly perKind = new Map<string, { sum: number; devices: number }>();
  /** Per device: moving average of observed / kind mean (1 = average speed). */
  private readonly speed = new Map<string, Ewma>();

  constructor(
    private readonly alpha: number,
    private readonly defaultMs: number,
  ) {}

  /** Feeds one observed runtime. */
  observe(deviceId: string, kind: string, runtimeMs: number): void {
    if (!Number.isFinite(runtimeMs) || runtimeMs < 0) return;
    const kindMean = this.kindMean(kind);
    if (kindMean !== undefined && kindMean > 0) {
      // Ratio against the mean before this sample, so a first sample does not compare with itself.
      this.bump(this.speed, deviceId, runtimeMs / kindMean);
    }
    const k = `${deviceId}\u0000${kind}`;
    const prev = this.perDeviceKind.get(k);
    const agg = this.perKind.get(kind) ?? { sum: 0, devices: 0 };
    if (prev) {
      agg.sum -= prev.value;
      prev.value = prev.value + this.alpha * (runtimeMs - prev.value);
      prev.samples++;
      agg.sum += prev.value;
    } else {
      this.perDeviceKind.set(k, { value: runtimeMs, samples: 1 });
      agg.sum += runtimeMs;
      agg.devices++;
    }
    this.perKind.set(kind, agg);
  }

  /** Sets a known runtime directly (e.g. a declared estimate or a warm start). */
  seed(deviceId: string, kind: string, runtimeMs: number): void {
    const k = `${deviceId}\u0000${kind}`;
    const prev = this.perDeviceKind.get(k);
    const agg = this.perKind.get(kind) ?? { sum: 0, devices: 0 };
    if (prev) agg.sum -= prev.value;
    else agg.devices++;
    agg.sum += runtimeMs;
    this.perDeviceKind.set(k, { value: runtimeMs, samples: prev?.samples ?? 1 });
    this.perKind.set(kind, agg);
  }

  /** Estimated runtime (ms) of `kind` on `deviceId`, and where the figure came from. */
  estimate(deviceId: string, kind: string): number {
    const own = this.perDeviceKind.get(`${deviceId}\u0000${kind}`);
    if (own) return own.value;
    const factor = this.speed.get(deviceId)?.value ?? 1;
    const mean = this.kindMean(kind);
    return (mean ?? this.defaultMs) * factor;
  }

  /** Mean over devices for a kind, or the default: for device-independent guesses (deadlines). */
  kindEstimate(kind: string): number {
    return this.kindMean(kind) ?? this.defaultMs;
  }

  forgetDevice(deviceId: string): void {
    this.speed.delete(deviceId);
    // Per-(device, kind) entries stay: a device that reconnects keeps its history.
  }

  private kindMean(kind: string): number | undefined {
    const agg = this.perKind.get(kind);
    return agg && agg.devices > 0 ? agg.sum / agg.devices : undefined;
  }

  private bump(m: Map<string, Ewma>, key: string, sample: number): void {
    const e = m.get(key);
    if (e) {
      e.value += this.alpha * (sample - e.value);
      e.samples++;
    } else m.set(key, { value: sample, samples: 1 });
  }
}
