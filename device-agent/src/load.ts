// Load figures for heartbeats: load average, battery and temperature where
// the kernel exposes them in sysfs (Linux, Android, Jetson). Sysfs reads are
// cheap but heartbeats are frequent, so values are cached for a while.
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SYSFS_TTL_MS = 30_000;

export interface DeviceLoad {
  loadAvg: number;
  /** -1 when unknown. */
  batteryPercent: number;
  /** -1 when unknown. */
  thermalCelsius: number;
}

function readTrim(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Battery capacity from /sys/class/power_supply/<x>/capacity where type is Battery. */
export function readBatteryPercent(root = '/sys/class/power_supply'): number {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return -1;
  }
  for (const name of names) {
    if (readTrim(path.join(root, name, 'type')) !== 'Battery') continue;
    const cap = Number(readTrim(path.join(root, name, 'capacity')));
    if (Number.isFinite(cap) && cap >= 0 && cap <= 100) return Math.round(cap);
  }
  return -1;
}

/** Hottest thermal zone in °C (sysfs reports millidegrees). */
export function readThermalCelsius(root = '/sys/class/thermal'): number {
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith('thermal_zone'));
  } catch {
    return -1;
  }
  let max = -1;
  for (const name of names) {
    const milli = Number(readTrim(path.join(root, name, 'temp')));
    if (Number.isFinite(milli) && milli > 0) max = Math.max(max, Math.round(milli / 1000));
  }
  return max;
}

export class LoadSampler {
  private sysfsAt = -Infinity;
  private battery = -1;
  private thermal = -1;

  constructor(private readonly now: () => number = Date.now) {}

  sample(): DeviceLoad {
    const t = this.now();
    if (t - this.sysfsAt >= SYSFS_TTL_MS && process.platform !== 'win32') {
      this.sysfsAt = t;
      this.battery = readBatteryPercent();
      this.thermal = readThermalCelsius();
    }
    const [one] = os.loadavg();
    return { loadAvg: one ?? 0, batteryPercent: this.battery, thermalCelsius: this.thermal };
  }
}
