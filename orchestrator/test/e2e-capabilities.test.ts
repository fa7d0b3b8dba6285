// Capabilities that change while a device is connected (a phone starts
// charging): the agent sends them in a heartbeat, the orchestrator stores
// them, shows them in /v1/devices and `orrery devices`, and places work that
// waited for them. A real orchestrator process; the device side is the
// protocol package's real AipClient.
import { AipClient, type Body, type Capabilities } from '@orrery/protocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type OrchestratorHandle, spawnCli, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

interface DeviceJson {
  name: string;
  status: string;
  features: string[];
  capabilities?: Capabilities;
}

describe('capabilities updated by heartbeats', () => {
  let orch: OrchestratorHandle;
  beforeAll(async () => {
    orch = await startOrchestrator({ heartbeatMs: 200 });
  });
  afterAll(async () => {
    await orch.kill('SIGTERM');
  });

  it('re-evaluates placement when a heartbeat brings new capabilities', async () => {
    const caps: Capabilities = {
      os: 'android',
      arch: 'arm64',
      labels: ['phone'],
      features: ['android', 'battery'],
      slots: 1,
      cpus: 8,
      memoryMb: 7800,
      gpus: 0,
      executors: ['shell'],
      hostname: 'pixel',
      diskTotalMb: 100_000,
      diskFreeMb: 40_000,
      gpuInfo: [],
      resources: { camera: 2 },
      osVersion: '14',
    };
    let pending: Capabilities | undefined;
    const client = new AipClient({
      url: orch.aipUrl,
      deviceName: 'pixel',
      capabilities: caps,
      heartbeat: () => {
        const hb = { running: 0, freeSlots: 1, batteryPercent: 80, thermalCelsius: -1, loadAvg: 0.1 };
        const changed = pending;
        pending = undefined;
        return changed ? { ...hb, capabilities: changed } : hb;
      },
    });
    const received: Body[] = [];
    client.on('message', (b) => received.push(b));
    client.start();
    try {
      const online = await waitFor(async () => {
        const { items } = await api<{ items: DeviceJson[] }>(orch.url, 'GET', '/v1/devices');
        return items.find((d) => d.name === 'pixel' && d.status === 'online');
      }, 'the device to come online');
      expect(online.capabilities).toMatchObject({ diskFreeMb: 40_000, resources: { camera: 2 }, osVersion: '14' });

      const c = await api<{ id: string }>(orch.url, 'POST', '/v1/constellations', {
        name: 'on-charger',
        tasks: { backup: { target: { capabilities: ['charging'] }, run: 'echo backed up' } },
      });
      await waitFor(async () => {
        const g = await api<{ tasks: Record<string, { waitingReason?: string }> }>(orch.url, 'GET', `/v1/constellations/${c.id}`);
        return g.tasks.backup?.waitingReason?.includes('charging');
      }, 'the task to wait for a charging device');
      expect(received.some((b) => b.type === 'assign')).toBe(false);

      pending = { ...caps, features: ['android', 'battery', 'charging'], diskFreeMb: 39_000 };
      await waitFor(() => received.some((b) => b.type === 'assign'), 'the task to be assigned once charging');
      const { items } = await api<{ items: DeviceJson[] }>(orch.url, 'GET', '/v1/devices');
      const dev = items.find((d) => d.name === 'pixel');
      expect(dev?.features).toContain('charging');
      expect(dev?.capabilities?.diskFreeMb).toBe(39_000);

      const cli = spawnCli(['devices', '--server', orch.url]);
      expect(await cli.exited).toBe(0);
      expect(cli.output()).toMatch(/pixel .*charging.*8 cpu, 7\.6 GiB, disk 38\/98 GiB free, res camera=2/);
    } finally {
      await client.stop();
    }
  });
});
