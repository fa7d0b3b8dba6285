// Human-readable rendering of constellations, devices and errors for the CLI.
import type { Capabilities } from '@orrery/protocol';
import type { ConstellationSummary, DeviceView } from '../api/live-events.js';
import type { Constellation, TaskState, TaskStatus } from '../model/types.js';
import { ApiError } from './api-client.js';

const useColour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string): string => (useColour ? `\x1b[${code}m${s}\x1b[0m` : s);

const STATUS_COLOUR: Record<string, number> = {
  succeeded: 32,
  failed: 31,
  timed_out: 31,
  cancelled: 90,
  skipped: 90,
  running: 34,
  assigned: 36,
  ready: 36,
  pending: 37,
  paused: 33,
  draining: 33,
  lost: 31,
  offline: 90,
  online: 32,
};

export const status = (s: string): string => paint(STATUS_COLOUR[s] ?? 0, s);

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function taskLine(t: TaskState, explain: boolean): string {
  const last = t.attempts[t.attempts.length - 1];
  const parts = [`  ${t.spec.id.padEnd(20)} ${status(t.status).padEnd(useColour ? 19 : 10)}`];
  if (last) {
    parts.push(`attempt ${last.number} on ${last.deviceId}`);
    if (last.startedAt && last.endedAt) parts.push(formatDuration(last.endedAt - last.startedAt));
    if (last.exitCode !== undefined && last.exitCode !== 0) parts.push(`exit ${last.exitCode}`);
    if (last.error && (t.status === 'failed' || t.status === 'timed_out')) parts.push(`— ${last.error}`);
  }
  if (t.waitingReason && (t.status === 'ready' || t.status === 'pending')) parts.push(`(waiting: ${t.waitingReason})`);
  let line = parts.join('  ');
  const outputs = Object.entries(t.outputs);
  if (outputs.length) line += `\n${outputs.map(([k, v]) => `      ${k} = ${truncate(v, 100)}`).join('\n')}`;
  if (explain) {
    for (const a of t.attempts) if (a.placement) line += `\n      attempt ${a.number}: ${a.placement}`;
  }
  return line;
}

export function formatConstellation(c: Constellation, opts: { explain?: boolean } = {}): string {
  const tasks = Object.values(c.tasks);
  const counts = countStatuses(tasks.map((t) => t.status));
  const head = `${c.name} (${c.id})  ${status(c.status)}  revision ${c.revision}  ${summariseCounts(counts)}`;
  return [head, ...tasks.map((t) => taskLine(t, opts.explain ?? false))].join('\n');
}

export function countStatuses(statuses: TaskStatus[]): Partial<Record<TaskStatus, number>> {
  const counts: Partial<Record<TaskStatus, number>> = {};
  for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

export function summariseCounts(counts: Partial<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n)
    .map(([s, n]) => `${n} ${status(s)}`)
    .join(', ');
}

export function formatSummaries(items: ConstellationSummary[]): string {
  if (!items.length) return 'No constellations yet. Submit one with `orrery submit graph.yaml`.';
  return items
    .map((c) => `${c.id}  ${c.name.padEnd(24)} ${status(c.status).padEnd(useColour ? 19 : 10)} rev ${c.revision}  ${summariseCounts(c.counts)}`)
    .join('\n');
}

export function formatDevices(items: DeviceView[]): string {
  if (!items.length) return 'No devices have connected. Start one with `orrery agent --server <url> --name <name>`.';
  const now = Date.now();
  return items
    .map((d) => {
      const hb = d.lastHeartbeatAt ? `${formatDuration(now - d.lastHeartbeatAt)} ago` : 'never';
      const caps = [d.os, d.arch, ...d.features].filter(Boolean).join(',');
      return `${d.id.padEnd(22)} ${d.name.padEnd(16)} ${status(d.status).padEnd(useColour ? 18 : 9)} ${d.running}/${d.slots} slots  labels=${d.labels.join(',') || '-'}  ${caps}${hardware(d)}  heartbeat ${hb}`;
    })
    .join('\n');
}

/** `  8 cpu, 15.6 GiB, disk 120/500 GiB free, gpu NVIDIA A100 (40 GiB), res camera=1` from the capability probe. */
function hardware(d: DeviceView): string {
  const c = d.capabilities as Capabilities | undefined;
  if (!c?.os) return '';
  const gib = (mb: number): string => `${(mb / 1024).toFixed(mb < 10 * 1024 ? 1 : 0)}`;
  const parts = [`${c.cpus} cpu`, `${gib(c.memoryMb)} GiB`];
  if (c.diskTotalMb) parts.push(`disk ${gib(c.diskFreeMb ?? 0)}/${gib(c.diskTotalMb)} GiB free`);
  const gpus = c.gpuInfo ?? [];
  if (gpus.length > 0) parts.push(`gpu ${gpus.map((g) => (g.memoryMb ? `${g.name} (${gib(g.memoryMb)} GiB)` : g.name)).join('; ')}`);
  else if (c.gpus > 0) parts.push(`gpus ${c.gpus}`);
  const res = Object.entries(c.resources ?? {});
  if (res.length > 0) parts.push(`res ${res.map(([k, v]) => `${k}=${v}`).join(',')}`);
  return `  ${parts.join(', ')}`;
}

export function formatError(err: unknown): string {
  if (err instanceof ApiError) {
    const p = err.problem;
    const lines = [`error ${p.code}: ${p.title}`];
    if (p.detail) lines.push(`  ${p.detail}`);
    for (const i of p.errors ?? []) {
      const where = [i.path, i.line !== undefined ? `line ${i.line}${i.column !== undefined ? `:${i.column}` : ''}` : undefined]
        .filter(Boolean)
        .join(', ');
      lines.push(`  - ${i.code}${where ? ` at ${where}` : ''}: ${i.message}`);
    }
    if (p.hint) lines.push(`hint: ${p.hint}`);
    return lines.join('\n');
  }
  const e = err as { code?: string; message?: string };
  return `error${e?.code ? ` ${e.code}` : ''}: ${e?.message ?? String(err)}`;
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\n/g, '⏎');
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
