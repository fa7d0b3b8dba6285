import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectOs, probeCapabilities } from '../src/capabilities.js';
import { LoadSampler, readBatteryPercent, readThermalCelsius } from '../src/load.js';

describe('capability probe', () => {
  it('describes this machine', () => {
    const caps = probeCapabilities({ labels: ['lab', 'lab', 'fast'] });
    expect(caps.os).toBe(process.platform === 'win32' ? 'windows' : detectOs({ env: process.env, platform: process.platform, exists: () => false }));
    expect(caps.arch).toBe(process.arch);
    expect(caps.cpus).toBeGreaterThan(0);
    expect(caps.slots).toBe(caps.cpus);
    expect(caps.memoryMb).toBe(Math.floor(os.totalmem() / 1024 / 1024));
    expect(caps.hostname).toBe(os.hostname());
    expect(caps.executors).toEqual(['shell']);
    expect(caps.labels).toEqual(['lab', 'fast']);
  });

  it('honours a slot override', () => {
    expect(probeCapabilities({ slots: 7 }).slots).toBe(7);
  });

  it('recognises Android, Jetson, CUDA, display and docker from the host', () => {
    const files = new Set(['/system/build.prop', '/etc/nv_tegra_release', '/var/run/docker.sock']);
    const caps = probeCapabilities({
      host: {
        platform: 'linux',
        env: { WAYLAND_DISPLAY: 'wayland-0', PATH: '/usr/bin' },
        exists: (p) => files.has(p),
        which: () => false,
        readFile: () => undefined,
        listDir: () => [],
        cpus: 6,
        arch: 'arm64',
      },
    });
    expect(caps.os).toBe('android');
    expect(caps.features).toEqual(['android', 'cuda', 'display', 'docker', 'gpu', 'jetson']);
    expect(caps.gpus).toBe(1);
    expect(caps.slots).toBe(6);
  });

  it('counts NVIDIA GPUs and finds nvidia-smi on PATH', () => {
    const caps = probeCapabilities({
      host: {
        platform: 'linux',
        env: { PATH: '/opt/nv/bin:/usr/bin' },
        exists: () => false,
        which: (b) => b === 'nvidia-smi',
        listDir: (d) => (d === '/dev' ? ['nvidia0', 'nvidia1', 'nvidiactl', 'null'] : []),
      },
    });
    expect(caps.os).toBe('linux');
    expect(caps.gpus).toBe(2);
    expect(caps.features).toEqual(['cuda', 'gpu']);
  });

  it('detects android from ANDROID_ROOT (Termux)', () => {
    expect(detectOs({ platform: 'linux', env: { ANDROID_ROOT: '/system' }, exists: () => false })).toBe('android');
    expect(detectOs({ platform: 'win32', env: {}, exists: () => false })).toBe('windows');
  });

  it('samples load, with battery -1 where the machine has none', () => {
    const l = new LoadSampler().sample();
    expect(l.loadAvg).toBeGreaterThanOrEqual(0);
    expect(l.batteryPercent).toBeGreaterThanOrEqual(-1);
    expect(readBatteryPercent('/nonexistent')).toBe(-1);
  });

  it('reads battery and temperature from a sysfs-shaped tree', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'orrery-sysfs-'));
    try {
      const put = (rel: string, text: string): void => {
        mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        writeFileSync(path.join(root, rel), text);
      };
      put('power_supply/AC/type', 'Mains\n');
      put('power_supply/BAT0/type', 'Battery\n');
      put('power_supply/BAT0/capacity', '73\n');
      put('thermal/thermal_zone0/temp', '41000\n');
      put('thermal/thermal_zone1/temp', '55500\n');
      expect(readBatteryPercent(path.join(root, 'power_supply'))).toBe(73);
      expect(readThermalCelsius(path.join(root, 'thermal'))).toBe(56);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
