// Builders for scheduler tests: a device with sensible defaults.
import type { SchedDevice } from '../../src/scheduler/index.js';

export const dev = (id: string, o: Partial<SchedDevice> = {}): SchedDevice => ({
  id,
  name: id,
  labels: [],
  os: 'linux',
  arch: 'x64',
  features: [],
  slots: 1,
  cpus: 4,
  memoryMb: 8192,
  gpus: 0,
  status: 'online',
  ...o,
});
