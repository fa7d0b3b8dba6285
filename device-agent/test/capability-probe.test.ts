// Capability probes against fake sysfs/etc/proc trees and fake helper
// commands (nvidia-smi, tegrastats, termux-battery-status) on PATH: the edge
// of the world. Then a real DeviceAgent whose battery starts charging, against
// a real orchestrator process: the change reaches it in a heartbeat and work
// that waited for `charging` runs.
import { chmodSync, mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, type OrchestratorHandle, startOrchestrator, waitFor as waitForApi } from '../../scripts/testing/stack.js';
import { DeviceAgent } from '../src/agent.js';
import { probeCapabilities, probeCapabilitiesAsync, realProbeHost } from '../src/capabilities.js';
import { CapabilityMonitor, capabilitiesDiffer } from '../src/capability-monitor.js';
import { parseNvidiaSmi, parseTegraRelease, parseTegrastatsRamMb } from '../src/probe-gpu.js';
import { parseTermuxBattery } from '../src/probe-power.js';
import { tempDir } from './helpers.js';

/** A fake machine: `root` holds /sys, /etc, /proc, /dev; `bin` holds fake helper commands. */
function fakeMachine(dir: string) {
  const root = path.join(dir, 'root');
  const bin = path.join(dir, 'bin');
  mkdirSync(root, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const put = (rel: string, text: string): void => {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  const script = (name: string, body: string): void => {
    writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };
  const env = { PATH: `${bin}:/usr/bin:/bin` };
  const host = (extraEnv: NodeJS.ProcessEnv = {}) => ({ ...realProbeHost(root, { ...env, ...extraEnv }), platform: 'linux' as const });
  return { root, bin, put, script, host };
}

describe('capability probes on a fake machine', () => {
  let tmp: ReturnType<typeof tempDir>;
  let m: ReturnType<typeof fakeMachine>;
  beforeEach(() => {
    tmp = tempDir('orrery-probe-');
    m = fakeMachine(tmp.dir);
  });
  afterEach(() => tmp.cleanup());

  it('reads battery and external power from sysfs, ignoring peripherals', () => {
    m.put('sys/class/power_supply/BAT0/type', 'Battery\n');
    m.put('sys/class/power_supply/BAT0/status', 'Discharging\n');
    m.put('sys/class/power_supply/BAT0/capacity', '55\n');
    m.put('sys/class/power_supply/AC/type', 'Mains\n');
    m.put('sys/class/power_supply/AC/online', '0\n');
    m.put('sys/class/power_supply/hidpp_battery_0/type', 'Battery\n');
    m.put('sys/class/power_supply/hidpp_battery_0/scope', 'Device\n');
    m.put('sys/class/power_supply/hidpp_battery_0/status', 'Charging\n');
    expect(probeCapabilities({ host: m.host() }).features).toEqual(['battery']);
    m.put('sys/class/power_supply/AC/online', '1\n');
    expect(probeCapabilities({ host: m.host() }).features).toEqual(['battery', 'charging']);
  });

  it('sees a connected monitor through DRM even without $DISPLAY', () => {
    m.put('sys/class/drm/card0-HDMI-A-1/status', 'disconnected\n');
    expect(probeCapabilities({ host: m.host() }).features).not.toContain('display');
    m.put('sys/class/drm/card0-DP-2/status', 'connected\n');
    expect(probeCapabilities({ host: m.host() }).features).toContain('display');
  });

  it('reports disk figures for the data dir and user-declared resources', () => {
    const caps = probeCapabilities({ host: m.host(), dataDir: tmp.dir, resources: { camera: 1, 'vram-gb': 24 } });
    const s = statfsSync(tmp.dir);
    expect(caps.diskTotalMb).toBe(Math.floor((s.blocks * s.bsize) / 2 ** 20));
    expect(caps.diskFreeMb).toBeGreaterThan(0);
    expect(caps.diskFreeMb).toBeLessThanOrEqual(caps.diskTotalMb ?? 0);
    expect(caps.resources).toEqual({ camera: 1, 'vram-gb': 24 });
  });

  it('queries nvidia-smi for GPU names, memory and driver', async () => {
    m.script(
      'nvidia-smi',
      'case "$*" in *--query-gpu=name,memory.total,driver_version*) printf "NVIDIA A100-SXM4-40GB, 40960, 550.54.15\\nNVIDIA T4, 15360, 550.54.15\\n";; *) exit 9;; esac',
    );
    const { capabilities } = await probeCapabilitiesAsync({ host: m.host() });
    expect(capabilities.gpuInfo).toEqual([
      { name: 'NVIDIA A100-SXM4-40GB', memoryMb: 40960, driver: '550.54.15' },
      { name: 'NVIDIA T4', memoryMb: 15360, driver: '550.54.15' },
    ]);
    expect(capabilities.gpus).toBe(2);
    expect(capabilities.features).toEqual(['cuda', 'gpu']);
  });

  it('a failing nvidia-smi leaves no GPU details, and a hung helper is killed at its timeout', async () => {
    m.script('nvidia-smi', 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2; exit 9');
    const { capabilities } = await probeCapabilitiesAsync({ host: m.host() });
    expect(capabilities.gpuInfo).toEqual([]);
    m.script('hang', 'sleep 30');
    const started = Date.now();
    expect(await m.host().run('hang', [], 300)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('describes a Jetson from nv_tegra_release, the device-tree model and one tegrastats sample', async () => {
    m.put('etc/nv_tegra_release', '# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023\n');
    m.put('proc/device-tree/model', 'NVIDIA Jetson Orin Nano Developer Kit\0');
    // tegrastats prints a line per interval until killed.
    m.script(
      'tegrastats',
      'while :; do echo "RAM 2345/7620MB (lfb 12x4MB) SWAP 0/3810MB (cached 0MB) CPU [1%@729,2%@729] EMC_FREQ 0% GR3D_FREQ 0% cpu@45C"; sleep 0.1; done',
    );
    const { capabilities } = await probeCapabilitiesAsync({ host: { ...m.host(), arch: 'arm64' } });
    expect(capabilities.features).toEqual(['cuda', 'gpu', 'jetson']);
    expect(capabilities.gpuInfo).toEqual([{ name: 'NVIDIA Jetson Orin Nano Developer Kit', memoryMb: 7620, driver: 'L4T R35.4.1' }]);
    expect(capabilities.gpus).toBe(1);
  });

  it('on Termux: android + termux, Android version, battery from termux-battery-status', async () => {
    m.put('system/build.prop', 'ro.build.version.sdk=34\nro.build.version.release=14\n');
    m.script('termux-battery-status', 'echo \'{"health":"GOOD","percentage":64,"plugged":"PLUGGED_USB","status":"CHARGING","temperature":31.2}\'');
    const full = await probeCapabilitiesAsync({ host: m.host({ TERMUX_VERSION: '0.118.0', PREFIX: '/data/data/com.termux/files/usr' }) });
    expect(full.capabilities.os).toBe('android');
    expect(full.capabilities.osVersion).toBe('14');
    expect(full.capabilities.features).toEqual(['android', 'battery', 'charging', 'termux']);
    expect(full.batteryPercent).toBe(64);
  });

  it('parses helper outputs defensively', () => {
    expect(parseNvidiaSmi('\n  \n')).toEqual([]);
    expect(parseNvidiaSmi('GPU X, [N/A], 1.0')).toEqual([{ name: 'GPU X', memoryMb: 0, driver: '1.0' }]);
    expect(parseTegraRelease('garbage')).toBe('L4T');
    expect(parseTegrastatsRamMb('no ram here')).toBe(0);
    expect(parseTermuxBattery('not json')).toBeUndefined();
    expect(parseTermuxBattery('{"percentage":20,"plugged":"UNPLUGGED","status":"DISCHARGING"}')).toEqual({
      hasBattery: true,
      charging: false,
      percent: 20,
    });
  });

  it('the monitor reports a change once, and ignores small moves of free disk', async () => {
    m.put('sys/class/power_supply/BAT0/type', 'Battery\n');
    m.put('sys/class/power_supply/BAT0/status', 'Discharging\n');
    const mon = new CapabilityMonitor({ host: m.host(), intervalMs: 0 });
    const caps = await mon.start();
    expect(mon.takeChange()).toBeUndefined();
    expect(await mon.refresh()).toBe(false);
    m.put('sys/class/power_supply/BAT0/status', 'Charging\n');
    expect(await mon.refresh()).toBe(true);
    expect(caps.features).toEqual(['battery', 'charging']); // the live object, as the next Hello sends it
    expect(mon.takeChange()?.features).toEqual(['battery', 'charging']);
    expect(mon.takeChange()).toBeUndefined();
    mon.stop();

    const base = { ...caps, diskTotalMb: 100_000, diskFreeMb: 50_000 };
    expect(capabilitiesDiffer(base, { ...base, diskFreeMb: 49_000 })).toBe(false);
    expect(capabilitiesDiffer(base, { ...base, diskFreeMb: 44_000 })).toBe(true);
    expect(capabilitiesDiffer(base, { ...base, labels: ['x'] })).toBe(true);
  });
});

describe('a real agent whose capabilities change, against a real orchestrator', () => {
  let tmp: ReturnType<typeof tempDir>;
  let orch: OrchestratorHandle | undefined;
  let agent: DeviceAgent | undefined;
  beforeEach(() => {
    tmp = tempDir('orrery-probe-e2e-');
  });
  afterEach(async () => {
    await agent?.stop({ drain: false });
    await orch?.kill('SIGTERM');
    tmp.cleanup();
  });

  it('sends new capabilities in a heartbeat; work waiting for `charging` then runs', async () => {
    orch = await startOrchestrator({ heartbeatMs: 200 });
    const m = fakeMachine(tmp.dir);
    m.put('sys/class/power_supply/BAT0/type', 'Battery\n');
    m.put('sys/class/power_supply/BAT0/status', 'Discharging\n');
    m.put('sys/class/power_supply/BAT0/capacity', '40\n');
    agent = new DeviceAgent({
      serverUrl: orch.aipUrl,
      name: 'laptop',
      dataDir: path.join(tmp.dir, 'data'),
      resources: { camera: 1 },
      probe: { host: m.host(), intervalMs: 100 },
    });
    await agent.start();
    type Dev = { name: string; status: string; features: string[]; capabilities?: { resources?: object; diskTotalMb?: number } };
    const dev = await waitForApi(async () => {
      const { items } = await api<{ items: Dev[] }>(orch!.url, 'GET', '/v1/devices');
      return items.find((d) => d.name === 'laptop' && d.status === 'online');
    }, 'the agent online');
    expect(dev.features).toEqual(['battery']);
    expect(dev.capabilities?.resources).toEqual({ camera: 1 });
    expect(dev.capabilities?.diskTotalMb).toBeGreaterThan(0);

    const c = await api<{ id: string }>(orch.url, 'POST', '/v1/constellations', {
      name: 'when-charging',
      tasks: { sync: { target: { capabilities: ['charging'] }, run: 'echo synced' } },
    });
    type G = { status: string; tasks: Record<string, { status: string; waitingReason?: string }> };
    await waitForApi(async () => (await api<G>(orch!.url, 'GET', `/v1/constellations/${c.id}`)).tasks.sync?.waitingReason, 'the task to wait');
    m.put('sys/class/power_supply/BAT0/status', 'Charging\n');
    const done = await waitForApi(async () => {
      const g = await api<G>(orch!.url, 'GET', `/v1/constellations/${c.id}`);
      return g.status === 'succeeded' ? g : undefined;
    }, 'the task to run once charging');
    expect(done.tasks.sync?.status).toBe('succeeded');
    const { items } = await api<{ items: Dev[] }>(orch.url, 'GET', '/v1/devices');
    expect(items.find((d) => d.name === 'laptop')?.features).toEqual(['battery', 'charging']);
  });
});
