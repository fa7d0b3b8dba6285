// Capability probe: what this device is and can do, as sent in Hello and,
// when it changes, in heartbeats (capability-monitor.ts). probeCapabilities()
// is synchronous and cheap (env, os module, a few sysfs/proc files, statfs);
// probeCapabilitiesAsync() adds what needs a helper command (nvidia-smi,
// tegrastats, termux-battery-status), each bounded by a timeout.
import type { Capabilities } from '@orrery/protocol/client';
import { probeJetson, queryNvidiaSmi } from './probe-gpu.js';
import { type ProbeHost, realProbeHost } from './probe-host.js';
import { parseTermuxBattery, type PowerState, readPowerSysfs, TERMUX_BATTERY_TIMEOUT_MS } from './probe-power.js';

export { type ProbeHost, realProbeHost } from './probe-host.js';

export interface ProbeOptions {
  /** User labels, e.g. ['lab', 'fast-disk']. */
  labels?: string[];
  /** Concurrent tasks accepted; default = number of CPUs. */
  slots?: number;
  /** Executors this agent runs. Default ['shell']. */
  executors?: string[];
  /** User-declared resources (agent config), passed through. */
  resources?: Record<string, number>;
  /** Disk figures are for the filesystem holding this directory (the agent's data dir). */
  dataDir?: string;
  /** The world the probe looks at; tests pass a fake one. */
  host?: Partial<ProbeHost>;
}

export function detectOs(host: Pick<ProbeHost, 'env' | 'platform' | 'exists'>): string {
  if (host.platform === 'android') return 'android';
  if (host.platform === 'linux' && (host.env.ANDROID_ROOT || host.exists('/system/build.prop'))) {
    return 'android';
  }
  if (host.platform === 'win32') return 'windows';
  return host.platform; // linux, darwin, freebsd, ...
}

function countNvidiaDevices(host: ProbeHost): number {
  return host.listDir('/dev').filter((n) => /^nvidia\d+$/.test(n)).length;
}

/** Termux (the Android terminal app that runs the agent on phones). */
function isTermux(host: ProbeHost): boolean {
  return !!host.env.TERMUX_VERSION || (host.env.PREFIX ?? '').includes('/com.termux/');
}

/** A monitor plugged in: a DRM connector reporting `connected` (a display exists even when the service has no $DISPLAY). */
function displayConnected(host: ProbeHost): boolean {
  const drm = '/sys/class/drm';
  return host.listDir(drm).some((n) => /^card\d+-/.test(n) && host.readFile(`${drm}/${n}/status`)?.trim() === 'connected');
}

function androidVersion(host: ProbeHost): string | undefined {
  const prop = host.readFile('/system/build.prop');
  return prop ? /^ro\.build\.version\.release=(.+)$/m.exec(prop)?.[1]?.trim() : undefined;
}

function applyPower(features: Set<string>, power: PowerState | undefined): void {
  features.delete('battery');
  features.delete('charging');
  if (!power?.hasBattery) return;
  features.add('battery');
  if (power.charging) features.add('charging');
}

export function probeCapabilities(opts: ProbeOptions = {}): Capabilities {
  const host: ProbeHost = { ...realProbeHost(), ...opts.host };
  const osName = detectOs(host);
  const features = new Set<string>();
  if (osName === 'android') features.add('android');
  if (isTermux(host)) features.add('termux');

  let gpus = countNvidiaDevices(host);
  const jetson = host.exists('/etc/nv_tegra_release');
  if (jetson) {
    // Tegra boards have an integrated CUDA GPU but no /dev/nvidiaN nodes.
    features.add('jetson');
    features.add('gpu');
    features.add('cuda');
    gpus = Math.max(gpus, 1);
  }
  if (gpus > 0 || host.exists('/dev/nvidia0') || host.which('nvidia-smi')) {
    features.add('gpu');
    features.add('cuda');
    gpus = Math.max(gpus, 1);
  }
  if (host.env.DISPLAY || host.env.WAYLAND_DISPLAY || osName === 'darwin' || osName === 'windows' || displayConnected(host)) {
    features.add('display');
  }
  if (host.exists('/var/run/docker.sock') || host.exists('/run/docker.sock')) features.add('docker');
  if (host.platform !== 'win32') applyPower(features, readPowerSysfs(host));

  const cpus = Math.max(1, host.cpus);
  const slots = opts.slots !== undefined && opts.slots > 0 ? Math.floor(opts.slots) : cpus;
  const disk = opts.dataDir ? host.statfs(opts.dataDir) : undefined;
  const mb = (bytes: number): number => Math.floor(bytes / (1024 * 1024));
  return {
    os: osName,
    arch: host.arch,
    labels: [...new Set(opts.labels ?? [])].filter((l) => l !== ''),
    features: [...features].sort(),
    slots,
    cpus,
    memoryMb: mb(host.totalMemBytes),
    gpus,
    executors: opts.executors ?? ['shell'],
    hostname: host.hostname,
    diskTotalMb: disk ? mb(disk.totalBytes) : 0,
    diskFreeMb: disk ? mb(disk.freeBytes) : 0,
    gpuInfo: [],
    resources: { ...(opts.resources ?? {}) },
    osVersion: (osName === 'android' ? androidVersion(host) : undefined) ?? host.osRelease ?? '',
  };
}

export interface FullProbe {
  capabilities: Capabilities;
  /** From termux-battery-status where sysfs is closed to apps (Android), else -1. */
  batteryPercent: number;
}

/** probeCapabilities plus GPU details and Termux battery, from helper commands with timeouts. */
export async function probeCapabilitiesAsync(opts: ProbeOptions = {}): Promise<FullProbe> {
  const host: ProbeHost = { ...realProbeHost(), ...opts.host };
  const caps = probeCapabilities({ ...opts, host });
  const features = new Set(caps.features);
  const termuxBattery =
    caps.os === 'android' && host.which('termux-battery-status')
      ? host.run('termux-battery-status', [], TERMUX_BATTERY_TIMEOUT_MS).then(parseTermuxBattery)
      : Promise.resolve(undefined);
  const [nvidia, jetson, battery] = await Promise.all([queryNvidiaSmi(host), probeJetson(host), termuxBattery]);
  const gpuInfo = [...(nvidia ?? []), ...(jetson ? [jetson] : [])];
  if (gpuInfo.length > 0) {
    caps.gpuInfo = gpuInfo;
    caps.gpus = Math.max(caps.gpus, gpuInfo.length);
    features.add('gpu');
    features.add('cuda');
  }
  if (battery) applyPower(features, battery);
  caps.features = [...features].sort();
  return { capabilities: caps, batteryPercent: battery?.percent ?? -1 };
}

let cached: { key: string; caps: Capabilities } | undefined;

/** probeCapabilities for the real host, computed once per distinct option set. */
export function cachedCapabilities(opts: Omit<ProbeOptions, 'host'> = {}): Capabilities {
  const key = JSON.stringify(opts);
  if (cached?.key !== key) cached = { key, caps: probeCapabilities(opts) };
  return cached.caps;
}
