// Digests referenced by the tasks of every constellation the orchestrator keeps.
import type { Constellation } from '../model/types.js';

export function referencedDigests(constellations: Iterable<Constellation>): Set<string> {
  const out = new Set<string>();
  for (const c of constellations) {
    for (const t of Object.values(c.tasks)) {
      if (!t.artifacts) continue;
      for (const a of Object.values(t.artifacts)) out.add(a.digest);
    }
  }
  return out;
}

export interface ArtifactListItem {
  task: string;
  name: string;
  digest: string;
  size: number;
  /** The attempt that produced it. */
  attempt?: number;
}

/** A constellation's stored artifacts, optionally of one task. */
export function listArtifacts(c: Constellation, taskId?: string): ArtifactListItem[] {
  const items: ArtifactListItem[] = [];
  for (const [tid, t] of Object.entries(c.tasks)) {
    if (taskId !== undefined && tid !== taskId) continue;
    const attempt = t.status === 'succeeded' ? t.attempts.at(-1)?.number : undefined;
    for (const [name, a] of Object.entries(t.artifacts ?? {})) {
      items.push({ task: tid, name, digest: a.digest, size: a.size, ...(attempt !== undefined ? { attempt } : {}) });
    }
  }
  return items;
}
