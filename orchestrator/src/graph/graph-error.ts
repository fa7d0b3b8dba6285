// One error type for every problem with a submitted graph. Each issue has a
// stable code, a JSON pointer into the document and, when the graph came as
// text, the line and column it points at.

export type GraphErrorCode =
  | 'GRAPH_PARSE_ERROR'
  | 'GRAPH_SCHEMA'
  | 'GRAPH_CYCLE'
  | 'GRAPH_DANGLING_DEPENDENCY'
  | 'GRAPH_DUPLICATE_TASK'
  | 'GRAPH_UNKNOWN_REFERENCE'
  | 'GRAPH_INVALID_CONDITION'
  | 'GRAPH_EMPTY';

export interface GraphIssue {
  code: GraphErrorCode;
  /** JSON pointer (RFC 6901) to the offending value; '' is the whole document. */
  path: string;
  /** 1-based, when the graph came as text. */
  line?: number;
  column?: number;
  message: string;
}

export class GraphError extends Error {
  /** The code of the first issue (what an API answers with). */
  readonly code: GraphErrorCode;
  constructor(
    readonly issues: GraphIssue[],
    readonly filename?: string,
  ) {
    super(summarise(issues, filename));
    this.name = 'GraphError';
    this.code = issues[0]?.code ?? 'GRAPH_SCHEMA';
  }
}

function summarise(issues: GraphIssue[], filename?: string): string {
  const first = issues[0];
  if (!first) return 'invalid graph';
  const where = [filename, first.line, first.column].filter((x) => x !== undefined).join(':');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return `${where ? `${where}: ` : ''}${first.message}${first.path ? ` at ${first.path}` : ''}${more}`;
}

/** RFC 6901 pointer from segments. */
export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Segments from an RFC 6901 pointer. */
export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
