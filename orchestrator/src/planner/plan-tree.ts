// A planned graph as a tree for people: each task under its first upstream,
// with its target and command; extra upstreams are named on the line.
import type { PlanResult } from './types.js';

interface Node {
  id: string;
  needs: Array<{ from: string; kind: string }>;
  target: string;
  command: string;
}

function targetText(t: Record<string, unknown> | undefined): string {
  if (!t || Object.keys(t).length === 0) return 'any device';
  const parts: string[] = [];
  if (t.device) parts.push(`device ${t.device}`);
  if (Array.isArray(t.labels) && t.labels.length) parts.push(`label ${t.labels.join('+')}`);
  for (const k of ['os', 'arch'] as const) if (t[k]) parts.push(`${k} ${t[k]}`);
  if (Array.isArray(t.capabilities) && t.capabilities.length) parts.push(`capability ${t.capabilities.join('+')}`);
  for (const k of ['minMemoryMb', 'minCpus', 'gpus'] as const) if (t[k] !== undefined) parts.push(`${k} ${t[k]}`);
  return parts.join(', ');
}

function nodesOf(graph: Record<string, unknown>): Node[] {
  const tasks = (graph.tasks ?? {}) as Record<string, Record<string, unknown>>;
  const defaults = (graph.defaults ?? {}) as { target?: Record<string, unknown> };
  return Object.entries(tasks).map(([id, t]) => {
    const needs = Array.isArray(t.needs)
      ? (t.needs as string[]).map((from) => ({ from, kind: 'success' }))
      : Object.entries((t.needs ?? {}) as Record<string, unknown>).map(([from, k]) => ({
          from,
          kind: typeof k === 'string' ? k : 'if',
        }));
    const ex = t.executor as { kind?: string; command?: string } | undefined;
    const command = typeof t.run === 'string' ? t.run : (ex?.command ?? `(${ex?.kind ?? '?'} executor)`);
    return {
      id,
      needs,
      target: targetText((t.target ?? defaults.target) as Record<string, unknown> | undefined),
      command,
    };
  });
}

export function formatPlanTree(plan: PlanResult): string {
  const nodes = nodesOf(plan.graph);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map<string, Node[]>();
  const roots: Node[] = [];
  for (const n of nodes) {
    const first = n.needs.find((d) => byId.has(d.from));
    if (first) children.set(first.from, [...(children.get(first.from) ?? []), n]);
    else roots.push(n);
  }
  const by =
    plan.planner.kind === 'llm' ? `the LLM planner (${plan.planner.model ?? 'model unknown'})` : 'the built-in planner';
  const lines = [`Plan "${String(plan.graph.name)}" by ${by}: ${nodes.length} task${nodes.length === 1 ? '' : 's'}`];
  const width = Math.min(28, Math.max(...nodes.map((n) => n.id.length)) + 2);
  const walk = (n: Node, prefix: string, last: boolean): void => {
    const extra = n.needs.slice(1).map((d) => (d.kind === 'success' ? d.from : `${d.from} (${d.kind})`));
    const firstKind = n.needs[0] && n.needs[0].kind !== 'success' ? ` [${n.needs[0].kind}]` : '';
    const oneLine = n.command.replace(/\s*\n\s*/g, ' ⏎ ');
    lines.push(
      `${prefix}${last ? '└─ ' : '├─ '}${n.id.padEnd(width)}on ${n.target}${firstKind}${extra.length ? `  (also after ${extra.join(', ')})` : ''}`,
      `${prefix}${last ? '   ' : '│  '}${(children.get(n.id)?.length ? '│ ' : '  ').padEnd(width)}$ ${oneLine.length > 100 ? `${oneLine.slice(0, 99)}…` : oneLine}`,
    );
    const kids = children.get(n.id) ?? [];
    kids.forEach((k, i) => {
      walk(k, `${prefix}${last ? '   ' : '│  '}`, i === kids.length - 1);
    });
  };
  roots.forEach((r, i) => {
    walk(r, '', i === roots.length - 1);
  });
  for (const w of plan.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
