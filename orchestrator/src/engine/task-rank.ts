// HEFT's upward rank without runtimes: the number of tasks on the longest
// path from a task to the end of its graph. The scheduler runs higher ranks
// first among equals, which keeps the critical path moving. O(V + E) once per
// constellation, iteratively (no recursion: graphs can be 100,000 deep).
import { indexOf } from '../model/index.js';
import type { Constellation } from '../model/types.js';

export function computeRanks(c: Constellation): Map<string, number> {
  const idx = indexOf(c);
  const rank = new Map<string, number>();
  const pendingOut = new Map<string, number>();
  const stack: string[] = [];
  for (const [id, links] of idx.links) {
    pendingOut.set(id, links.out.length);
    if (links.out.length === 0) stack.push(id);
  }
  // Reverse topological order: a task is ranked once all its successors are.
  while (stack.length) {
    const id = stack.pop() as string;
    const links = idx.links.get(id);
    if (!links) continue;
    let best = 0;
    for (const dep of links.out) best = Math.max(best, rank.get(dep.to) ?? 0);
    rank.set(id, best + 1);
    for (const dep of links.in) {
      const left = (pendingOut.get(dep.from) ?? 1) - 1;
      pendingOut.set(dep.from, left);
      if (left === 0) stack.push(dep.from);
    }
  }
  return rank;
}
