// GPU details: NVIDIA GPUs through `nvidia-smi` (a query with a timeout, run
// asynchronously so a wedged driver never stalls the agent), Jetson boards
// through /etc/nv_tegra_release, the device-tree model and one `tegrastats`
// sample (their GPU shares the board's RAM).
import type { GpuInfo } from '@orrery/protocol/client';
import type { ProbeHost } from './probe-host.js';

export const NVIDIA_SMI_TIMEOUT_MS = 5_000;
export const TEGRASTATS_TIMEOUT_MS = 2_500;

/** Lines of `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(out: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of out.split('\n')) {
    const cols = line.split(',').map((c) => c.trim());
    if (cols.length < 3 || !cols[0]) continue;
    const mem = Number(cols[1]);
    gpus.push({ name: cols[0], memoryMb: Number.isFinite(mem) ? Math.round(mem) : 0, driver: cols[2] ?? '' });
  }
  return gpus;
}

export async function queryNvidiaSmi(host: ProbeHost): Promise<GpuInfo[] | undefined> {
  if (!host.which('nvidia-smi')) return undefined;
  const out = await host.run(
    'nvidia-smi',
    ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader,nounits'],
    NVIDIA_SMI_TIMEOUT_MS,
  );
  return out === undefined ? undefined : parseNvidiaSmi(out);
}

/** `# R35 (release), REVISION: 4.1, ...` → `L4T R35.4.1`. */
export function parseTegraRelease(text: string | undefined): string {
  const m = /#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)/.exec(text ?? '');
  return m ? `L4T R${m[1]}.${m[2]}` : 'L4T';
}

/** Total RAM (shared with the GPU) from a tegrastats line: `RAM 2345/7620MB ...`. */
export function parseTegrastatsRamMb(line: string | undefined): number {
  const m = /RAM\s+\d+\/(\d+)MB/.exec(line ?? '');
  return m ? Number(m[1]) : 0;
}

export async function probeJetson(host: ProbeHost): Promise<GpuInfo | undefined> {
  const release = host.readFile('/etc/nv_tegra_release');
  if (release === undefined) return undefined;
  const model = host.readFile('/proc/device-tree/model')?.replace(/\0/g, '').trim() || 'NVIDIA Jetson';
  let memoryMb = 0;
  if (host.which('tegrastats')) {
    const out = await host.run('tegrastats', ['--interval', '100'], TEGRASTATS_TIMEOUT_MS, { firstLine: true });
    memoryMb = parseTegrastatsRamMb(out?.split('\n').find((l) => l.includes('RAM')));
  }
  return { name: model, memoryMb, driver: parseTegraRelease(release) };
}
