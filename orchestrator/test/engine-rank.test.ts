import { describe, expect, it } from 'vitest';
import { computeRanks } from '../src/engine/task-rank.js';
import { normaliseGraph } from '../src/graph/index.js';
import { createConstellation } from '../src/model/index.js';

const build = (tasks: Record<string, unknown>) =>
  createConstellation(normaliseGraph({ name: 'r', tasks }), { id: 'c1', owner: 't', now: 0 });

describe('critical-path rank', () => {
  it('counts the tasks on the longest path to the end', () => {
    const c = build({
      a: { run: 'true' },
      b: { run: 'true', needs: ['a'] },
      c: { run: 'true', needs: ['b'] },
      side: { run: 'true', needs: ['a'] },
      lone: { run: 'true' },
    });
    const r = computeRanks(c);
    expect(Object.fromEntries(r)).toEqual({ a: 3, b: 2, c: 1, side: 1, lone: 1 });
  });

  it('handles a 100,000-task chain without recursion', () => {
    const tasks: Record<string, unknown> = { t0: { run: 'true' } };
    for (let i = 1; i < 100_000; i++) tasks[`t${i}`] = { run: 'true', needs: [`t${i - 1}`] };
    const r = computeRanks(build(tasks));
    expect(r.get('t0')).toBe(100_000);
    expect(r.get('t99999')).toBe(1);
  });
});
