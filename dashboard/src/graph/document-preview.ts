// A graph document (what the submit page edits and POST /v1/plan returns) as
// a constellation-shaped value the DAG view can draw before anything is
// submitted: task ids, names and dependency edges, every task pending. Only
// the shape needed for the picture is read; the server validates the rest.

import type { Constellation, Dependency, DependencyKind, TaskState } from '../api/types.js';

const KINDS: ReadonlySet<string> = new Set(['success', 'completion', 'failure', 'condition']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function previewTask(id: string, name: string, command: string): TaskState {
  return {
    spec: {
      id,
      name,
      target: {},
      executor: { kind: 'shell', command },
      inputs: {},
      outputs: {},
      priority: 0,
      retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60_000, multiplier: 2 },
    },
    status: 'pending',
    attempts: [],
    outputs: {},
  };
}

/** `needs` as written: a list of ids, or a map id -> kind | { if: condition }. */
function needsOf(to: string, needs: unknown): Dependency[] {
  if (Array.isArray(needs)) {
    return needs.filter((n): n is string => typeof n === 'string').map((from) => ({ from, to, kind: 'success' }));
  }
  if (!isRecord(needs)) return [];
  return Object.entries(needs).map(([from, v]): Dependency => {
    if (isRecord(v) && typeof v.if === 'string') return { from, to, kind: 'condition', condition: v.if };
    const kind = typeof v === 'string' && KINDS.has(v) ? (v as DependencyKind) : 'success';
    return { from, to, kind };
  });
}

/** The document as a drawable constellation, or an error saying why it cannot be drawn. */
export function previewConstellation(doc: unknown, revision = 1): Constellation | { error: string } {
  if (!isRecord(doc)) return { error: 'the document is not a mapping' };
  const tasks: Record<string, TaskState> = {};
  const dependencies: Dependency[] = [];
  if (isRecord(doc.tasks)) {
    for (const [id, t] of Object.entries(doc.tasks)) {
      const spec = isRecord(t) ? t : {};
      const command = typeof spec.run === 'string' ? spec.run : '';
      tasks[id] = previewTask(id, typeof spec.name === 'string' ? spec.name : id, command);
      dependencies.push(...needsOf(id, spec.needs));
    }
  } else if (Array.isArray(doc.tasks)) {
    // The normalised form (tasks as a list, edges in `dependencies`).
    for (const t of doc.tasks) {
      if (!isRecord(t) || typeof t.id !== 'string') continue;
      tasks[t.id] = previewTask(t.id, typeof t.name === 'string' ? t.name : t.id, '');
    }
    for (const d of Array.isArray(doc.dependencies) ? doc.dependencies : []) {
      if (isRecord(d) && typeof d.from === 'string' && typeof d.to === 'string') {
        const kind = typeof d.kind === 'string' && KINDS.has(d.kind) ? (d.kind as DependencyKind) : 'success';
        dependencies.push({
          from: d.from,
          to: d.to,
          kind,
          ...(typeof d.condition === 'string' ? { condition: d.condition } : {}),
        });
      }
    }
  } else {
    return { error: 'the document has no tasks' };
  }
  // Edges to tasks that do not exist are left out of the picture (the server names them on submit).
  const known = dependencies.filter((d) => d.from in tasks && d.to in tasks);
  return {
    id: 'preview',
    name: typeof doc.name === 'string' ? doc.name : 'preview',
    revision,
    status: 'draft',
    owner: '',
    inputs: {},
    tasks,
    dependencies: known,
    createdAt: 0,
    updatedAt: 0,
  };
}
