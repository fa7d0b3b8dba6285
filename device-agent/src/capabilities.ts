// Capability probe: what this device is and can do, as sent in Hello. Only
// cheap checks (env vars, file existence, os module); no child processes, so
// probing costs microseconds and never stalls a phone at idle.
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Capabilities } from '@orrery/protocol/client';

export interface ProbeOptions {
  /** User labels, e.g. ['lab', 'fast-disk']. */
  labels?: string[];
  /** Concurrent tasks accepted; default = number of CPUs. */
  slots?: number;
  /** Executors this agent runs. Default ['shell']. */
  executors?: string[];
  /** User-declared resources (agent config), passed through. */
  resources?: Record<string, number>;
  /** The world the probe looks at; tests pass a fake one. */
  host?: Partial<ProbeHost>;
}

/** Everything the probe reads from the machine, injectable at the edge. */
export interface ProbeHost {
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  arch: string;
  cpus: number;
  totalMemBytes: number;
  hostname: string;
  exists(p: string): boolean;
  listDir(p: string): string[];
}

export function realProbeHost(): ProbeHost {
  return {
    env: process.env,
    platform: process.platform,
    arch: process.arch,
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    totalMemBytes: os.totalmem(),
    hostname: os.hostname(),
    exists: (p) => existsSync(p),
    listDir: (p) => {
      try {
        return readdirSync(p);
      } catch {
        return [];
      }
    },
  };
}

export function detectOs(host: Pick<ProbeHost, 'env' | 'platform' | 'exists'>): string {
  if (host.platform === 'android') return 'android';
  if (host.platform === 'linux' && (host.env.ANDROID_ROOT || host.exists('/system/build.prop'))) {
    return 'android';
  }
  if (host.platform === 'win32') return 'windows';
  return host.platform; // linux, darwin, freebsd, ...
}

function onPath(host: ProbeHost, binary: string): boolean {
  const dirs = (host.env.PATH ?? '').split(host.platform === 'win32' ? ';' : ':');
  const names = host.platform === 'win32' ? [`${binary}.exe`] : [binary];
  return dirs.some((d) => d !== '' && names.some((n) => host.exists(path.join(d, n))));
}

function countNvidiaDevices(host: ProbeHost): number {
  return host.listDir('/dev').filter((n) => /^nvidia\d+$/.test(n)).length;
}

export function probeCapabilities(opts: ProbeOptions = {}): Capabilities {
  const host: ProbeHost = { ...realProbeHost(), ...opts.host };
  const osName = detectOs(host);
  const features = new Set<string>();
  if (osName === 'android') features.add('android');

  let gpus = countNvidiaDevices(host);
  const jetson = host.exists('/etc/nv_tegra_release');
  if (jetson) {
    // Tegra boards have an integrated CUDA GPU but no /dev/nvidiaN nodes.
    features.add('jetson');
    features.add('gpu');
    features.add('cuda');
    gpus = Math.max(gpus, 1);
  }
  if (gpus > 0 || host.exists('/dev/nvidia0') || onPath(host, 'nvidia-smi')) {
    features.add('gpu');
    features.add('cuda');
    gpus = Math.max(gpus, 1);
  }
  if (host.env.DISPLAY || host.env.WAYLAND_DISPLAY || osName === 'darwin' || osName === 'windows') {
    features.add('display');
  }
  if (host.exists('/var/run/docker.sock') || host.exists('/run/docker.sock')) features.add('docker');

  const cpus = Math.max(1, host.cpus);
  const slots = opts.slots !== undefined && opts.slots > 0 ? Math.floor(opts.slots) : cpus;
  return {
    os: osName,
    arch: host.arch,
    labels: [...new Set(opts.labels ?? [])].filter((l) => l !== ''),
    features: [...features].sort(),
    slots,
    cpus,
    memoryMb: Math.floor(host.totalMemBytes / (1024 * 1024)),
    gpus,
    executors: opts.executors ?? ['shell'],
    hostname: host.hostname,
    ...(opts.resources && Object.keys(opts.resources).length > 0 ? { resources: { ...opts.resources } } : {}),
  };
}

let cached: { key: string; caps: Capabilities } | undefined;

/** probeCapabilities for the real host, computed once per distinct option set. */
export function cachedCapabilities(opts: Omit<ProbeOptions, 'host'> = {}): Capabilities {
  const key = JSON.stringify(opts);
  if (cached?.key !== key) cached = { key, caps: probeCapabilities(opts) };
  return cached.caps;
}
