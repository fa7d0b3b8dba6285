// Which artifact transfers a device may make: an upload only for an attempt
// it holds right now that declares artifact outputs (and only under a
// declared name), a download only of a blob that is an input of an attempt it
// holds. Anything else is ARTIFACT_REFUSED, so an enrolled device cannot fill
// the store or read blobs that are not its business.
import type { TaskRef } from '@orrery/protocol';
import type { Constellation } from '../model/types.js';

export interface ArtifactAccess {
  /** The declared output names of `ref` when `deviceId` holds that attempt now; otherwise a reason to refuse. */
  outputsOf(deviceId: string, ref: TaskRef): { names: string[] } | { refused: string };
  /** Digests of the artifact inputs of every attempt `deviceId` holds now. */
  inputsHeldBy(deviceId: string): Set<string>;
}

interface Holder {
  running: ReadonlyMap<string, number>;
}

/** Access decided from the engine's live state: the attempts each device holds. */
export function engineAccess(
  device: (id: string) => Holder | undefined,
  constellation: (id: string) => Constellation | undefined,
): ArtifactAccess {
  return {
    outputsOf(deviceId, ref) {
      const held = device(deviceId)?.running.get(`${ref.constellationId}/${ref.taskId}`);
      if (held !== ref.attempt) {
        return {
          refused: `device ${deviceId} holds no running attempt ${ref.attempt} of ${ref.constellationId}/${ref.taskId}`,
        };
      }
      const task = constellation(ref.constellationId)?.tasks[ref.taskId];
      const names = Object.keys(task?.spec.artifacts ?? {});
      if (names.length === 0) return { refused: `task ${ref.taskId} declares no artifact outputs` };
      return { names };
    },
    inputsHeldBy(deviceId) {
      const digests = new Set<string>();
      for (const key of device(deviceId)?.running.keys() ?? []) {
        const i = key.indexOf('/');
        const c = constellation(key.slice(0, i));
        const task = c?.tasks[key.slice(i + 1)];
        for (const src of Object.values(task?.spec.artifactInputs ?? {})) {
          const producer = c && Object.hasOwn(c.tasks, src.task) ? c.tasks[src.task] : undefined;
          const stored = producer?.artifacts?.[src.artifact];
          if (stored) digests.add(stored.digest);
        }
      }
      return digests;
    },
  };
}
