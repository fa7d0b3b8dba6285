// Where a task's input artifacts already are, for the scheduler's transfer
// cost (HEFT: a device that holds the bytes finishes sooner than one that
// must fetch them). Holders: the device whose attempt produced a blob (it
// keeps it in its cache), plus devices the orchestrator saw store it since
// it started (uploads and downloads).
import type { Constellation, TaskState } from '../model/types.js';

export type HolderLookup = (digest: string) => Iterable<string> | undefined;

export function inputLocality(
  c: Constellation,
  t: TaskState,
  holders?: HolderLookup,
): { inputBytes: number; inputBytesByDevice: Record<string, number> } | undefined {
  const inputs = t.spec.artifactInputs;
  if (!inputs) return undefined;
  let inputBytes = 0;
  const byDevice: Record<string, number> = {};
  const seen = new Set<string>();
  for (const src of Object.values(inputs)) {
    const producer = Object.hasOwn(c.tasks, src.task) ? c.tasks[src.task] : undefined;
    const stored = producer?.status === 'succeeded' ? producer.artifacts?.[src.artifact] : undefined;
    if (!stored || seen.has(stored.digest)) continue;
    seen.add(stored.digest);
    inputBytes += stored.size;
    const devices = new Set<string>(holders?.(stored.digest) ?? []);
    const made = producer?.attempts.at(-1)?.deviceId;
    if (made) devices.add(made);
    for (const d of devices) byDevice[d] = (byDevice[d] ?? 0) + stored.size;
  }
  return inputBytes > 0 ? { inputBytes, inputBytesByDevice: byDevice } : undefined;
}
