// Maps engine state onto the scheduler's plain shapes.
import { ARTIFACTS_VERSION } from '@orrery/protocol';
import { usesArtifacts } from '../artifacts/assign-artifacts.js';
import { type HolderLookup, inputLocality } from '../artifacts/locality.js';
import type { Constellation, TaskState } from '../model/types.js';
import type { SchedDevice, SchedTarget, SchedTask } from '../scheduler/index.js';
import type { DeviceEntry } from './device-registry.js';

export const taskKey = (constellationId: string, taskId: string): string => `${constellationId}/${taskId}`;

/** The inverse of taskKey (constellation ids never contain a slash). */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** A device whose session speaks AIP 2 (artifact transfer) has this capability; tasks with artifacts require it. */
export const ARTIFACTS_CAPABILITY = 'aip:artifacts';

export function toSchedDevice(d: DeviceEntry): SchedDevice {
  const caps = d.capabilities;
  const aip = d.session && d.session.protocolVersion >= ARTIFACTS_VERSION ? [ARTIFACTS_CAPABILITY] : [];
  return {
    id: d.id,
    name: d.name,
    labels: d.labels,
    os: caps.os,
    arch: caps.arch,
    // Executors count as capabilities: an http task never lands on a shell-only agent.
    features: [...(caps.features ?? []), ...(caps.executors ?? []).map((e) => `executor:${e}`), ...aip],
    slots: Math.max(0, caps.slots ?? 1),
    cpus: caps.cpus ?? 1,
    memoryMb: caps.memoryMb ?? 0,
    gpus: caps.gpus ?? 0,
    status: d.session ? d.status : d.status === 'lost' ? 'lost' : 'offline',
  };
}

/**
 * The class runtimes are learned for: per (graph, task), falling back to the
 * executor kind when that class is new (a build and a lint differ a lot).
 */
export function taskKind(c: Constellation, t: TaskState): string {
  return `${t.spec.executor.kind}:${c.name}/${t.spec.id}`;
}

export function toSchedTask(
  c: Constellation,
  t: TaskState,
  readySince: number,
  rank?: number,
  refusedBy: readonly string[] = [],
  holders?: HolderLookup,
): SchedTask {
  const locality = t.spec.artifactInputs ? inputLocality(c, t, holders) : undefined;
  const target = executorTarget(t);
  return {
    key: taskKey(c.id, t.spec.id),
    constellationId: c.id,
    owner: c.owner,
    taskId: t.spec.id,
    target: refusedBy.length > 0 ? { ...target, refusedBy } : target,
    priority: t.spec.priority,
    kind: taskKind(c, t),
    readySince,
    ...(t.notBefore !== undefined ? { notBefore: t.notBefore } : {}),
    ...(rank !== undefined ? { rank } : {}),
    ...(locality ?? {}),
  };
}

/**
 * Every agent runs shell; any other executor kind is a hard constraint on the
 * device, and so is artifact transfer (a version-1 agent is never a candidate,
 * instead of failing the attempt and using up a retry).
 */
function executorTarget(t: TaskState): SchedTarget {
  const kind = t.spec.executor.kind;
  const needs = [...(kind === 'shell' ? [] : [`executor:${kind}`]), ...(usesArtifacts(t) ? [ARTIFACTS_CAPABILITY] : [])];
  if (needs.length === 0) return t.spec.target;
  return { ...t.spec.target, capabilities: [...(t.spec.target.capabilities ?? []), ...needs] };
}
