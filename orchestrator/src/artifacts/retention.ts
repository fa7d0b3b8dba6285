// Which stored blobs may go. Policy (docs/storage.md "Artifacts"):
// - a blob referenced by a task of any constellation the orchestrator keeps
//   is never removed;
// - unreferenced blobs (an upload whose attempt then failed or was
//   superseded) are removed, least recently used first, while the store is
//   over its size cap;
// - nothing used within the grace period is removed, so a blob uploaded for
//   a Result still on its way is safe.
import type { StoredBlob } from '@orrery/protocol';

export interface RetentionPolicy {
  /** Total bytes the store should stay under. */
  maxStoreBytes: number;
  /** Blobs used more recently than this are kept regardless (ms). */
  graceMs: number;
}

export interface EvictionPlan {
  remove: StoredBlob[];
  totalBytes: number;
  /** Bytes still stored after the plan (may exceed the cap if referenced blobs alone do). */
  afterBytes: number;
}

/** Pure: what to remove from `blobs` under `policy`, given the referenced digests. */
export function planEviction(
  blobs: readonly StoredBlob[],
  referenced: ReadonlySet<string>,
  policy: RetentionPolicy,
  now: number,
): EvictionPlan {
  const totalBytes = blobs.reduce((n, b) => n + b.size, 0);
  let after = totalBytes;
  const remove: StoredBlob[] = [];
  if (after <= policy.maxStoreBytes) return { remove, totalBytes, afterBytes: after };
  const candidates = blobs
    .filter((b) => !referenced.has(b.digest) && now - b.usedAt >= policy.graceMs)
    .sort((a, b) => a.usedAt - b.usedAt);
  for (const b of candidates) {
    if (after <= policy.maxStoreBytes) break;
    remove.push(b);
    after -= b.size;
  }
  return { remove, totalBytes, afterBytes: after };
}
