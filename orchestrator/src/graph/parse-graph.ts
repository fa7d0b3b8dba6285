// The graph pipeline: text -> value -> JSON Schema -> semantic checks ->
// GraphSpec. Every problem becomes a GraphIssue; any issue throws GraphError.

import type { GraphSpec } from '../model/types.js';
import { cycleIssues, danglingIssues, referenceIssues } from './checks.js';
import { fromPointer, GraphError, type GraphIssue } from './graph-error.js';
import { buildSpec, type RawGraph } from './normalise.js';
import { schemaIssues } from './schema.js';
import { type GraphFormat, type Locator, parseSource } from './source.js';

export interface ParseGraphOptions {
  format?: GraphFormat;
  /** Used in messages and to detect the format (.json/.yaml/.yml). */
  filename?: string;
}

function place(issues: GraphIssue[], locate: Locator | undefined): GraphIssue[] {
  if (!locate) return issues;
  return issues.map((i) => {
    if (i.line !== undefined) return i;
    // Unknown fields and bad names point at the key, the rest at the value.
    const onKey = i.message.startsWith('unknown field') || i.message.startsWith('invalid name');
    const pos = locate(fromPointer(i.path), onKey);
    return pos ? { ...i, line: pos.line, column: pos.column } : i;
  });
}

function validate(doc: unknown, locate: Locator | undefined, filename: string | undefined): GraphSpec {
  const fail = (issues: GraphIssue[]): never => {
    throw new GraphError(place(issues, locate), filename);
  };
  const schema = schemaIssues(doc);
  if (schema.length > 0) fail(schema);
  const raw = doc as RawGraph;
  if (Object.keys(raw.tasks).length === 0)
    fail([{ code: 'GRAPH_EMPTY', path: '/tasks', message: 'the graph has no tasks' }]);
  const issues: GraphIssue[] = [];
  const spec = buildSpec(raw, issues);
  const dangling = danglingIssues(spec, raw);
  issues.push(...dangling);
  if (!dangling.some((i) => i.code === 'GRAPH_DANGLING_DEPENDENCY')) {
    const cycles = cycleIssues(spec, raw);
    issues.push(...cycles.issues);
    if (cycles.issues.length === 0) issues.push(...referenceIssues(spec, raw));
  }
  if (issues.length > 0) fail(issues);
  return spec;
}

/** Parse and validate a graph document given as YAML or JSON text. Throws GraphError. */
export function parseGraph(text: string, opts: ParseGraphOptions = {}): GraphSpec {
  const src = parseSource(text, opts);
  if (src.issues.length > 0) throw new GraphError(src.issues, opts.filename);
  return validate(src.value, src.locate, opts.filename);
}

/** Validate an already-parsed graph document (e.g. a JSON request body). Throws GraphError. */
export function normaliseGraph(doc: unknown): GraphSpec {
  return validate(doc, undefined, undefined);
}
