import type { Constellation, ConstellationSummary, StatusCounts } from '../api/types.js';

/** The list entry for a full constellation (used right after submit, before the SSE event lands). */
export function summaryOf(c: Constellation): ConstellationSummary {
  const counts: StatusCounts = {};
  for (const t of Object.values(c.tasks)) counts[t.status] = (counts[t.status] ?? 0) + 1;
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    revision: c.revision,
    owner: c.owner,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    counts,
  };
}
