// Keeps the capabilities current: probes at start, re-probes the cheap parts
// every `intervalMs` and the helper commands (nvidia-smi, tegrastats,
// termux-battery-status) every `commandIntervalMs`, and hands a changed set
// to the next heartbeat once. The Capabilities object is updated in place,
// so the Hello of every reconnect carries the latest too.
import type { Capabilities } from '@orrery/protocol/client';
import type { Logger } from 'pino';
import { type FullProbe, type ProbeOptions, probeCapabilities, probeCapabilitiesAsync } from './capabilities.js';

export interface CapabilityMonitorOptions extends ProbeOptions {
  /** Cheap re-probe (sysfs, statfs, env). Default 60 s; 0 = never. */
  intervalMs?: number;
  /** Re-probe with helper commands. Default 5 min. */
  commandIntervalMs?: number;
  logger?: Logger;
}

/** Free disk counts as changed only past max(1 GiB, 5 % of the disk): it moves all the time. */
export function capabilitiesDiffer(a: Capabilities, b: Capabilities): boolean {
  const { diskFreeMb: fa = 0, ...ra } = a;
  const { diskFreeMb: fb = 0, ...rb } = b;
  if (JSON.stringify(ra) !== JSON.stringify(rb)) return true;
  const total = Math.max(a.diskTotalMb ?? 0, b.diskTotalMb ?? 0);
  return Math.abs(fa - fb) >= Math.max(1024, total * 0.05);
}

export class CapabilityMonitor {
  private caps: Capabilities | undefined;
  /** What the orchestrator last got (Hello or heartbeat). */
  private sent: Capabilities | undefined;
  private lastFull: FullProbe | undefined;
  private lastFullAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;

  constructor(private readonly opts: CapabilityMonitorOptions = {}) {}

  /** The full probe; the returned object stays the live one. */
  async start(): Promise<Capabilities> {
    this.lastFull = await probeCapabilitiesAsync(this.opts);
    this.lastFullAt = Date.now();
    this.caps = this.lastFull.capabilities;
    this.sent = structuredClone(this.caps);
    const every = this.opts.intervalMs ?? 60_000;
    if (every > 0) {
      this.timer = setInterval(() => void this.refresh(), every);
      this.timer.unref();
    }
    return this.caps;
  }

  get current(): Capabilities {
    if (!this.caps) throw new Error('CapabilityMonitor.start() first');
    return this.caps;
  }

  /** Battery level from termux-battery-status (Android), else -1. */
  get batteryPercent(): number {
    return this.lastFull?.batteryPercent ?? -1;
  }

  /** Re-probes now; resolves true when the capabilities changed. */
  async refresh(forceCommands = false): Promise<boolean> {
    if (!this.caps || this.probing) return false;
    this.probing = true;
    try {
      const commandsDue = forceCommands || Date.now() - this.lastFullAt >= (this.opts.commandIntervalMs ?? 300_000);
      let next: Capabilities;
      if (commandsDue) {
        this.lastFull = await probeCapabilitiesAsync(this.opts);
        this.lastFullAt = Date.now();
        next = this.lastFull.capabilities;
      } else {
        // Keep what only the helper commands know (GPU details, Termux battery).
        next = probeCapabilities(this.opts);
        const full = this.lastFull?.capabilities;
        if (full) {
          next.gpuInfo = full.gpuInfo;
          next.gpus = full.gpus;
          next.features = mergeCommandFeatures(next.features, full.features, this.lastFull?.batteryPercent !== -1);
        }
      }
      if (!capabilitiesDiffer(this.caps, next)) return false;
      this.opts.logger?.info({ features: next.features, gpus: next.gpus, diskFreeMb: next.diskFreeMb }, 'capabilities changed');
      replaceInPlace(this.caps, next);
      return true;
    } catch (err) {
      this.opts.logger?.warn({ err }, 'capability probe failed');
      return false;
    } finally {
      this.probing = false;
    }
  }

  /** The capabilities if they changed since last taken (or since Hello), once. */
  takeChange(): Capabilities | undefined {
    if (!this.caps || !this.sent || !capabilitiesDiffer(this.sent, this.caps)) return undefined;
    this.sent = structuredClone(this.caps);
    return this.sent;
  }

  /** A fresh Hello carried the current set: nothing is pending any more. */
  markSent(): void {
    if (this.caps) this.sent = structuredClone(this.caps);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Features only the helper commands find (gpu/cuda from nvidia-smi; battery/charging from Termux) survive a cheap re-probe. */
function mergeCommandFeatures(cheap: string[], full: string[], termuxBattery: boolean): string[] {
  const out = new Set(cheap);
  for (const f of ['gpu', 'cuda']) if (full.includes(f)) out.add(f);
  if (termuxBattery) {
    out.delete('battery');
    out.delete('charging');
    for (const f of ['battery', 'charging']) if (full.includes(f)) out.add(f);
  }
  return [...out].sort();
}

function replaceInPlace(target: Capabilities, next: Capabilities): void {
  const t = target as unknown as Record<string, unknown>;
  for (const k of Object.keys(t)) if (!(k in next)) delete t[k];
  Object.assign(target, next);
}
