// Hard constraints: does a device statically satisfy a TargetSelector, and
// if no device does, which constraint is the one nobody meets (for the
// waiting reason). Slots and status are dynamic and handled by the scheduler.
import type { SchedDevice, SchedTarget } from './types.js';

/** Canonical string for a selector: tasks with equal signatures share queues and candidate sets. */
export function selectorSignature(t: SchedTarget): string {
  const parts: string[] = [];
  if (t.device) parts.push(`d=${t.device}`);
  if (t.os) parts.push(`o=${t.os}`);
  if (t.arch) parts.push(`a=${t.arch}`);
  if (t.labels && t.labels.length > 0) parts.push(`l=${[...new Set(t.labels)].sort().join(',')}`);
  if (t.capabilities && t.capabilities.length > 0) parts.push(`c=${[...new Set(t.capabilities)].sort().join(',')}`);
  if (t.minCpus) parts.push(`cpu=${t.minCpus}`);
  if (t.minMemoryMb) parts.push(`mem=${t.minMemoryMb}`);
  if (t.gpus) parts.push(`gpu=${t.gpus}`);
  if (t.refusedBy && t.refusedBy.length > 0) parts.push(`r=${[...t.refusedBy].sort().join(',')}`);
  return parts.join(';');
}

interface Check {
  /** Phrase completing "no online device ..." */
  describe(t: SchedTarget): string;
  applies(t: SchedTarget): boolean;
  ok(t: SchedTarget, d: SchedDevice): boolean;
}

const hasAll = (have: readonly string[], want: readonly string[]): boolean => want.every((w) => have.includes(w));
const list = (xs: readonly string[] | undefined): string => `[${(xs ?? []).join(', ')}]`;

// Order matters: the first check that leaves no device is the reason shown.
const CHECKS: readonly Check[] = [
  {
    applies: (t) => !!t.device,
    ok: (t, d) => d.id === t.device || d.name === t.device,
    describe: (t) => `is the pinned device ${t.device}`,
  },
  {
    applies: (t) => !!t.os,
    ok: (t, d) => d.os === t.os,
    describe: (t) => `runs os ${t.os}`,
  },
  {
    applies: (t) => !!t.arch,
    ok: (t, d) => d.arch === t.arch,
    describe: (t) => `has arch ${t.arch}`,
  },
  {
    applies: (t) => !!t.labels && t.labels.length > 0,
    ok: (t, d) => hasAll(d.labels, t.labels ?? []),
    describe: (t) => `matches labels ${list(t.labels)}`,
  },
  {
    applies: (t) => !!t.capabilities && t.capabilities.length > 0,
    ok: (t, d) => hasAll(d.features, t.capabilities ?? []),
    describe: (t) => {
      const c = t.capabilities ?? [];
      return c.length === 1 ? `has capability ${c[0]}` : `has capabilities ${list(c)}`;
    },
  },
  {
    applies: (t) => !!t.minCpus,
    ok: (t, d) => d.cpus >= (t.minCpus ?? 0),
    describe: (t) => `has ≥ ${t.minCpus} cpus`,
  },
  {
    applies: (t) => !!t.minMemoryMb,
    ok: (t, d) => d.memoryMb >= (t.minMemoryMb ?? 0),
    describe: (t) => `has ≥ ${t.minMemoryMb} MB memory`,
  },
  {
    applies: (t) => !!t.gpus,
    ok: (t, d) => d.gpus >= (t.gpus ?? 0),
    describe: (t) => `has ≥ ${t.gpus} gpus`,
  },
  {
    // Last: only devices that match everything else and still said no.
    applies: (t) => !!t.refusedBy && t.refusedBy.length > 0,
    ok: (t, d) => !t.refusedBy?.includes(d.id),
    describe: () =>
      'accepts this task: every matching one refused it (see the attempts for why; change the device configuration or the task, then retry)',
  },
];

/** Static match (ignores status and slots). */
export function matchesSelector(t: SchedTarget, d: SchedDevice): boolean {
  for (const c of CHECKS) if (c.applies(t) && !c.ok(t, d)) return false;
  return true;
}

/**
 * Why no online device matches: narrows the online devices one constraint at
 * a time and names the first constraint that leaves none, with a hint about
 * matching devices that are not online. Undefined when some online device matches.
 */
export function explainMismatch(t: SchedTarget, devices: Iterable<SchedDevice>): string | undefined {
  const all = [...devices];
  let online = all.filter((d) => d.status === 'online');
  const offlineMatches = all.filter((d) => d.status !== 'online' && matchesSelector(t, d));
  const hint =
    offlineMatches.length > 0
      ? ` (matching but not online: ${offlineMatches
          .slice(0, 5)
          .map((d) => `${d.name} (${d.status})`)
          .join(', ')}${offlineMatches.length > 5 ? ', …' : ''})`
      : '';
  if (all.length === 0) return 'no device is connected';
  if (online.length === 0) return `no device is online${hint}`;
  for (const c of CHECKS) {
    if (!c.applies(t)) continue;
    online = online.filter((d) => c.ok(t, d));
    if (online.length === 0) return `no online device ${c.describe(t)}${hint}`;
  }
  return undefined;
}
