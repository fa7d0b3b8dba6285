// Battery and external power: Linux/Android sysfs (/sys/class/power_supply)
// and, on Termux where Android hides sysfs from apps, termux-battery-status
// (from the Termux:API add-on). Feature `battery` = the device has one;
// `charging` = it is on external power (charging, or full on the charger).
import type { ProbeHost } from './probe-host.js';

export interface PowerState {
  hasBattery: boolean;
  /** On external power (mains/USB/wireless), whether or not the battery is still filling. */
  charging: boolean;
  /** 0..100, or -1 when unknown. */
  percent: number;
}

const ROOT = '/sys/class/power_supply';

/** From sysfs; undefined when the kernel shows no power supplies at all. */
export function readPowerSysfs(host: Pick<ProbeHost, 'listDir' | 'readFile'>): PowerState | undefined {
  const names = host.listDir(ROOT);
  if (names.length === 0) return undefined;
  const state: PowerState = { hasBattery: false, charging: false, percent: -1 };
  let externalOnline = false;
  for (const name of names) {
    const read = (f: string): string | undefined => host.readFile(`${ROOT}/${name}/${f}`)?.trim();
    const type = read('type');
    if (type === 'Battery') {
      // Peripherals (mice, headsets) report batteries with scope=Device: not ours.
      if (read('scope') === 'Device') continue;
      state.hasBattery = true;
      const status = read('status');
      if (status === 'Charging' || status === 'Full') state.charging = true;
      const cap = Number(read('capacity'));
      if (state.percent < 0 && Number.isFinite(cap) && cap >= 0 && cap <= 100) state.percent = Math.round(cap);
    } else if (type === 'Mains' || type === 'USB' || type === 'Wireless') {
      if (read('online') === '1') externalOnline = true;
    }
  }
  if (state.hasBattery && externalOnline) state.charging = true;
  return state;
}

/** `termux-battery-status` JSON (Termux:API): {percentage, plugged, status, ...}. */
export function parseTermuxBattery(json: string | undefined): PowerState | undefined {
  if (!json) return undefined;
  try {
    const b = JSON.parse(json) as { percentage?: unknown; plugged?: unknown; status?: unknown };
    const pct = typeof b.percentage === 'number' ? Math.round(b.percentage) : -1;
    const plugged = typeof b.plugged === 'string' && b.plugged !== 'UNPLUGGED';
    const charging = plugged || b.status === 'CHARGING' || b.status === 'FULL';
    return { hasBattery: true, charging, percent: pct >= 0 && pct <= 100 ? pct : -1 };
  } catch {
    return undefined;
  }
}

/** Termux:API answers through an Android broadcast: slow, and it hangs without the app. */
export const TERMUX_BATTERY_TIMEOUT_MS = 5_000;
