// ${{ ... }} templates: the only way data flows between tasks. Parsed by a
// small scanner (no eval); a reference is one of
//   inputs.<name> | tasks.<id>.outputs.<name> | tasks.<id>.status

export type Reference =
  | { kind: 'input'; name: string }
  | { kind: 'output'; task: string; name: string }
  | { kind: 'status'; task: string };

export interface TemplateRef {
  ref: Reference;
  /** The text between the braces, trimmed. */
  expression: string;
  /** Offset of `${{` in the template string. */
  start: number;
  end: number;
}

export interface TemplateProblem {
  expression: string;
  start: number;
  message: string;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** Parse a dotted path into a reference, or null when it is not one. */
export function parseReferencePath(path: string): Reference | null {
  const parts = path.split('.');
  if (!parts.every((p) => SEGMENT.test(p))) return null;
  if (parts[0] === 'inputs' && parts.length === 2) return { kind: 'input', name: parts[1]! };
  if (parts[0] === 'tasks' && parts.length === 4 && parts[2] === 'outputs') {
    return { kind: 'output', task: parts[1]!, name: parts[3]! };
  }
  if (parts[0] === 'tasks' && parts.length === 3 && parts[2] === 'status') {
    return { kind: 'status', task: parts[1]! };
  }
  return null;
}

export function formatReference(ref: Reference): string {
  switch (ref.kind) {
    case 'input':
      return `inputs.${ref.name}`;
    case 'output':
      return `tasks.${ref.task}.outputs.${ref.name}`;
    case 'status':
      return `tasks.${ref.task}.status`;
  }
}

/** Scan a template; returns references and malformed expressions. */
export function scanTemplate(str: string): { refs: TemplateRef[]; problems: TemplateProblem[] } {
  const refs: TemplateRef[] = [];
  const problems: TemplateProblem[] = [];
  let from = 0;
  for (;;) {
    const start = str.indexOf('${{', from);
    if (start < 0) break;
    const close = str.indexOf('}}', start + 3);
    if (close < 0) {
      problems.push({ expression: str.slice(start), start, message: 'unterminated template expression (missing }})' });
      break;
    }
    const expression = str.slice(start + 3, close).trim();
    const ref = parseReferencePath(expression);
    if (ref) refs.push({ ref, expression, start, end: close + 2 });
    else {
      problems.push({
        expression,
        start,
        message: `unsupported expression "${expression}" (expected inputs.<name>, tasks.<id>.outputs.<name> or tasks.<id>.status)`,
      });
    }
    from = close + 2;
  }
  return { refs, problems };
}

/** The references a template string uses (malformed expressions are ignored). */
export function listReferences(str: string): Reference[] {
  if (!str.includes('${{')) return [];
  return scanTemplate(str).refs.map((r) => r.ref);
}

/** What a template (or condition) may read. */
export interface TemplateContext {
  inputs: Record<string, string>;
  /** Status and outputs of tasks, by id. */
  tasks: Record<string, { status?: string; outputs?: Record<string, string> } | undefined>;
}

export class TemplateError extends Error {
  readonly code = 'TEMPLATE_UNRESOLVED';
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** The value a reference points at, or undefined when it has none (yet). */
export function lookupReference(ref: Reference, ctx: TemplateContext): string | undefined {
  switch (ref.kind) {
    case 'input':
      return Object.hasOwn(ctx.inputs, ref.name) ? ctx.inputs[ref.name] : undefined;
    case 'output': {
      const outputs = Object.hasOwn(ctx.tasks, ref.task) ? ctx.tasks[ref.task]?.outputs : undefined;
      return outputs && Object.hasOwn(outputs, ref.name) ? outputs[ref.name] : undefined;
    }
    case 'status':
      return Object.hasOwn(ctx.tasks, ref.task) ? ctx.tasks[ref.task]?.status : undefined;
  }
}

/**
 * Replace every ${{ ... }} with its value. A reference without a value
 * throws TemplateError unless `missing: 'empty'` is given.
 */
export function resolveTemplate(str: string, ctx: TemplateContext, opts: { missing?: 'error' | 'empty' } = {}): string {
  if (!str.includes('${{')) return str;
  const { refs, problems } = scanTemplate(str);
  const problem = problems[0];
  if (problem) throw new TemplateError(problem.message, problem.expression);
  let out = '';
  let at = 0;
  for (const r of refs) {
    const value = lookupReference(r.ref, ctx);
    if (value === undefined && opts.missing !== 'empty') {
      throw new TemplateError(`no value for ${r.expression}`, r.expression);
    }
    out += str.slice(at, r.start) + (value ?? '');
    at = r.end;
  }
  return out + str.slice(at);
}
