// The artifact part of an Assign: what to collect when the attempt succeeds,
// and which stored blobs to place in the work dir before it starts.
import type { ArtifactInput, ArtifactOutputSpec } from '@orrery/protocol';
import type { Constellation, TaskState } from '../model/types.js';

export function artifactAssignFields(
  c: Constellation,
  t: TaskState,
): { artifactOutputs?: ArtifactOutputSpec[]; artifactInputs?: ArtifactInput[] } {
  const out: { artifactOutputs?: ArtifactOutputSpec[]; artifactInputs?: ArtifactInput[] } = {};
  if (t.spec.artifacts) {
    out.artifactOutputs = Object.entries(t.spec.artifacts).map(([name, path]) => ({ name, path }));
  }
  if (t.spec.artifactInputs) {
    out.artifactInputs = Object.entries(t.spec.artifactInputs).map(([path, src]) => {
      const producer = Object.hasOwn(c.tasks, src.task) ? c.tasks[src.task] : undefined;
      const stored = producer?.status === 'succeeded' ? producer.artifacts?.[src.artifact] : undefined;
      if (!stored) {
        // Reached when the producer did not succeed (a completion/failure dependency) or declared it but an edit changed it.
        throw new Error(
          `ARTIFACT_MISSING: artifact input ${path} needs tasks.${src.task}.artifacts.${src.artifact}, which ${producer ? `task ${src.task} has not stored (it is ${producer.status})` : 'does not exist'}`,
        );
      }
      return { path, digest: stored.digest, size: stored.size, source: `${src.task}.${src.artifact}` };
    });
  }
  return out;
}

/** Whether an attempt of this task needs a device that speaks artifact transfer. */
export function usesArtifacts(t: TaskState): boolean {
  return (
    (t.spec.artifacts !== undefined && Object.keys(t.spec.artifacts).length > 0) ||
    (t.spec.artifactInputs !== undefined && Object.keys(t.spec.artifactInputs).length > 0)
  );
}
