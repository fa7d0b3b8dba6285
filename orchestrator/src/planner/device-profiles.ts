// Device profiles as planners see them, and checks of a target selector
// against the devices that exist (so a plan never targets a device or label
// nobody has).
import type { TargetSelector } from '../model/types.js';
import { matchesSelector } from '../scheduler/constraints.js';
import type { SchedDevice } from '../scheduler/types.js';
import type { DeviceProfile } from './types.js';

function asSchedDevice(p: DeviceProfile): SchedDevice {
  return {
    id: p.id,
    name: p.name,
    labels: p.labels,
    os: p.os,
    arch: p.arch,
    // As the engine maps them: executors count as capabilities.
    features: [...p.features, ...p.executors.map((e) => `executor:${e}`)],
    slots: p.slots,
    cpus: p.cpus,
    memoryMb: p.memoryMb,
    gpus: p.gpus,
    status: 'online',
  };
}

/** Whether a device could run a task with this target (ignoring whether it is online now). */
export function profileMatches(target: TargetSelector, device: DeviceProfile): boolean {
  return matchesSelector(target, asSchedDevice(device));
}

export const allLabels = (devices: readonly DeviceProfile[]): string[] =>
  [...new Set(devices.flatMap((d) => d.labels))].sort();

/** Names and labels, for "unknown target" messages. */
export function describeKnownTargets(devices: readonly DeviceProfile[]): string {
  const names = devices.map((d) => d.name).sort();
  return `devices: ${names.join(', ') || '(none)'}; labels: ${allLabels(devices).join(', ') || '(none)'}`;
}

/**
 * Problems with a target against the known devices: an unknown pinned device,
 * an unknown label, or a selector no device satisfies. Empty when no device
 * is known at all (nothing to check against; callers warn instead).
 */
export function targetProblems(target: TargetSelector, devices: readonly DeviceProfile[]): string[] {
  if (devices.length === 0) return [];
  const problems: string[] = [];
  if (target.device && !devices.some((d) => d.name === target.device || d.id === target.device)) {
    problems.push(`no device is named ${JSON.stringify(target.device)}`);
  }
  const labels = new Set(allLabels(devices));
  for (const l of target.labels ?? [])
    if (!labels.has(l)) problems.push(`no device has the label ${JSON.stringify(l)}`);
  if (problems.length === 0 && !devices.some((d) => profileMatches(target, d))) {
    problems.push(`no device matches ${JSON.stringify(target)}`);
  }
  return problems;
}

/** One line per device for prompts: everything a planner may target. */
export function describeDevices(devices: readonly DeviceProfile[]): string {
  if (devices.length === 0) return '(no devices connected yet)';
  return devices
    .map(
      (d) =>
        `- name=${d.name} status=${d.status} os=${d.os || '?'} arch=${d.arch || '?'} labels=[${d.labels.join(',')}] ` +
        `features=[${d.features.join(',')}] executors=[${d.executors.join(',')}] cpus=${d.cpus} memoryMb=${d.memoryMb} gpus=${d.gpus} slots=${d.slots}` +
        (d.osVersion ? ` osVersion=${JSON.stringify(d.osVersion)}` : '') +
        (d.diskFreeMb ? ` diskFreeMb=${d.diskFreeMb}` : '') +
        (d.gpuModels?.length ? ` gpuModels=${JSON.stringify(d.gpuModels)}` : '') +
        (d.resources ? ` resources=${JSON.stringify(d.resources)}` : ''),
    )
    .join('\n');
}
