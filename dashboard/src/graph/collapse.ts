// Collapses big fan-outs: tasks that have exactly the same upstream and
// downstream edges (e.g. 500 shards between a split and a join) are drawn as
// one group node until expanded. Grouping is by that signature, so the
// collapsed picture has the same shape as the full one.

import type { LayoutInput } from './layout-model.js';

/** More siblings than this with one signature become a group. */
export const FANOUT_GROUP_MIN = 20;

export const GROUP_PREFIX = 'group:';

export interface Collapsed {
  input: LayoutInput;
  /** Group id → its member task ids (sorted). */
  groups: Map<string, string[]>;
  /** Task id → the group it is drawn in. */
  groupOf: Map<string, string>;
}

export const isGroupId = (id: string): boolean => id.startsWith(GROUP_PREFIX);

/**
 * Replaces each set of more than `min` tasks sharing a signature by one node,
 * unless the group is in `expanded` (by group id, which is stable: the prefix
 * plus the first member's id).
 */
export function collapseFanouts(input: LayoutInput, expanded: ReadonlySet<string>, min = FANOUT_GROUP_MIN): Collapsed {
  const ins = new Map<string, string[]>();
  const outs = new Map<string, string[]>();
  for (const d of input.dependencies) {
    const tag = d.kind === 'condition' ? `condition:${d.condition ?? ''}` : d.kind;
    ins.set(d.to, [...(ins.get(d.to) ?? []), `${d.from}\u0001${tag}`]);
    outs.set(d.from, [...(outs.get(d.from) ?? []), `${d.to}\u0001${tag}`]);
  }
  const bySignature = new Map<string, string[]>();
  for (const t of input.tasks) {
    const i = ins.get(t.id);
    const o = outs.get(t.id);
    // Roots with no edges at all are not a fan-out of anything.
    if (!i && !o) continue;
    const sig = `${[...(i ?? [])].sort().join('\u0002')}\u0003${[...(o ?? [])].sort().join('\u0002')}`;
    bySignature.set(sig, [...(bySignature.get(sig) ?? []), t.id]);
  }
  const groups = new Map<string, string[]>();
  const groupOf = new Map<string, string>();
  for (const members of bySignature.values()) {
    if (members.length <= min) continue;
    members.sort();
    const id = `${GROUP_PREFIX}${members[0]}`;
    if (expanded.has(id)) continue;
    groups.set(id, members);
    for (const m of members) groupOf.set(m, id);
  }
  if (groups.size === 0) return { input, groups, groupOf };

  const tasks = input.tasks.filter((t) => !groupOf.has(t.id));
  for (const [id, members] of groups) tasks.push({ id, name: `${members.length} tasks` });
  const seen = new Set<string>();
  const dependencies: LayoutInput['dependencies'][number][] = [];
  for (const d of input.dependencies) {
    const from = groupOf.get(d.from) ?? d.from;
    const to = groupOf.get(d.to) ?? d.to;
    const key = `${from}\u0001${to}\u0001${d.kind}`;
    if (seen.has(key)) continue; // one edge stands for the group's identical edges
    seen.add(key);
    dependencies.push({ ...d, from, to });
  }
  return { input: { tasks, dependencies }, groups, groupOf };
}
