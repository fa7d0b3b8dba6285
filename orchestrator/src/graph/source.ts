// Text -> value, with positions. YAML goes through `yaml`'s parseDocument (a
// LineCounter maps node offsets to lines); JSON through JSON.parse (fast on
// big graphs) plus a linear scan for duplicate keys and, only when there is
// an error to place, node positions.

import { isMap, isScalar, isSeq, LineCounter, type Document, parseDocument } from 'yaml';
import { type GraphIssue, toPointer } from './graph-error.js';
import { type JsonNodePosition, lineIndex, scanJson } from './json-scan.js';

export type GraphFormat = 'yaml' | 'json';

export interface Position {
  line: number;
  column: number;
}

/** Where a JSON pointer (as segments) sits in the text; `key` points at the map key itself. */
export type Locator = (segments: readonly string[], key?: boolean) => Position | undefined;

export interface ParsedSource {
  value: unknown;
  format: GraphFormat;
  locate: Locator;
  issues: GraphIssue[];
}

export function detectFormat(text: string, opts: { format?: GraphFormat; filename?: string }): GraphFormat {
  if (opts.format) return opts.format;
  const name = opts.filename?.toLowerCase() ?? '';
  if (name.endsWith('.json')) return 'json';
  if (name.endsWith('.yaml') || name.endsWith('.yml')) return 'yaml';
  const first = /\S/.exec(text)?.[0];
  return first === '{' || first === '[' ? 'json' : 'yaml';
}

function makeLocator(doc: Document | undefined, lc: LineCounter): Locator {
  return (segments, key = false) => {
    if (!doc) return undefined;
    let node: unknown = doc.contents;
    let best: [number, number] | undefined = rangeOf(node);
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
        if (!pair) break;
        const target = last && key ? pair.key : (pair.value ?? pair.key);
        node = target;
      } else if (isSeq(node)) {
        node = node.items[Number(seg)];
      } else break;
      const r = rangeOf(node);
      if (!r) break;
      best = r;
    }
    if (!best) return undefined;
    const p = lc.linePos(best[0]);
    return { line: p.line, column: p.col };
  };
}

function rangeOf(node: unknown): [number, number] | undefined {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}

/** Is the duplicate key at `offset` a key of the top-level `tasks` map? */
function isTaskKey(doc: Document, offset: number): boolean {
  const root = doc.contents;
  if (!isMap(root)) return false;
  const tasks = root.items.find((p) => isScalar(p.key) && p.key.value === 'tasks')?.value;
  if (!isMap(tasks)) return false;
  return tasks.items.some((p) => rangeOf(p.key)?.[0] === offset);
}

/** After the first few, YAML errors are mostly echoes of the first. */
const MAX_PARSE_ISSUES = 3;

function yamlIssues(doc: Document): GraphIssue[] {
  return doc.errors.slice(0, MAX_PARSE_ISSUES).map((e) => {
    const pos = e.linePos?.[0];
    const first = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const duplicate = e.code === 'DUPLICATE_KEY';
    const issue: GraphIssue = {
      code: duplicate && isTaskKey(doc, e.pos[0]) ? 'GRAPH_DUPLICATE_TASK' : 'GRAPH_PARSE_ERROR',
      path: '',
      message: duplicate
        ? `duplicate key ${JSON.stringify(keyText(doc, e.pos[0]))}${isTaskKey(doc, e.pos[0]) ? ': a task id may appear only once' : ''}`
        : first,
    };
    if (pos) {
      issue.line = pos.line;
      issue.column = pos.col;
    }
    return issue;
  });
}

function keyText(doc: Document, offset: number): string {
  let found = '';
  const visit = (node: unknown): void => {
    if (found) return;
    if (isMap(node)) {
      for (const p of node.items) {
        if (rangeOf(p.key)?.[0] === offset) {
          found = isScalar(p.key) ? String(p.key.value) : String(p.key);
          return;
        }
        visit(p.value);
      }
    } else if (isSeq(node)) node.items.forEach(visit);
  };
  visit(doc.contents);
  return found;
}

function parseJson(text: string): ParsedSource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const issue: GraphIssue = { code: 'GRAPH_PARSE_ERROR', path: '', message: `invalid JSON: ${message}` };
    const at = /position (\d+)/.exec(message);
    const lc = /line (\d+) column (\d+)/.exec(message);
    if (lc) {
      issue.line = Number(lc[1]);
      issue.column = Number(lc[2]);
    } else Object.assign(issue, lineIndex(text)(at ? Number(at[1]) : text.length));
    return { value: undefined, format: 'json', locate: () => undefined, issues: [issue] };
  }
  const issues: GraphIssue[] = scanJson(text).map((d) => {
    const isTask = d.path.length === 1 && d.path[0] === 'tasks';
    return {
      code: isTask ? 'GRAPH_DUPLICATE_TASK' : 'GRAPH_PARSE_ERROR',
      path: toPointer([...d.path, d.key]),
      message: `duplicate key ${JSON.stringify(d.key)}${isTask ? ': a task id may appear only once' : ''}`,
      ...lineIndex(text)(d.offset),
    };
  });
  // Positions are only needed to report problems: built on first use.
  let positions: Map<string, JsonNodePosition> | undefined;
  let toLine: ReturnType<typeof lineIndex> | undefined;
  const locate: Locator = (segments, key = false) => {
    if (!positions) {
      positions = new Map();
      scanJson(text, positions);
      toLine = lineIndex(text);
    }
    // The nearest node that exists, walking up.
    for (let n = segments.length; n >= 0; n--) {
      const p = positions.get(toPointer(segments.slice(0, n)));
      if (!p) continue;
      const offset = key && n === segments.length && p.key !== undefined ? p.key : p.value;
      return toLine!(offset);
    }
    return undefined;
  };
  return { value, format: 'json', locate, issues };
}

function parseYaml(text: string): ParsedSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  const issues = yamlIssues(doc);
  const locate = makeLocator(doc, lc);
  if (issues.length > 0) return { value: undefined, format: 'yaml', locate, issues };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return {
      value: undefined,
      format: 'yaml',
      locate,
      issues: [{ code: 'GRAPH_PARSE_ERROR', path: '', message: (e as Error).message }],
    };
  }
  return { value, format: 'yaml', locate, issues: [] };
}

export function parseSource(text: string, opts: { format?: GraphFormat; filename?: string } = {}): ParsedSource {
  return detectFormat(text, opts) === 'json' ? parseJson(text) : parseYaml(text);
}
