// The `if:` condition language: a hand-written tokenizer and recursive-descent
// parser (never eval). Grammar, loosest binding first:
//   or      := and ('||' and)*
//   and     := unary ('&&' unary)*
//   unary   := '!' unary | compare
//   compare := primary (('=='|'!='|'<'|'<='|'>'|'>=') primary)?
//   primary := number | 'string' | "string" | true | false | null | path | '(' or ')'
// A path is inputs.<name>, tasks.<id>.outputs.<name> or tasks.<id>.status.

import { parseReferencePath, type Reference } from './template.js';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type ConditionNode =
  | { type: 'literal'; value: string | number | boolean | null }
  | { type: 'ref'; ref: Reference; path: string }
  | { type: 'not'; operand: ConditionNode }
  | { type: 'and' | 'or'; left: ConditionNode; right: ConditionNode }
  | { type: 'compare'; op: CompareOp; left: ConditionNode; right: ConditionNode };

export class ConditionSyntaxError extends Error {
  readonly code = 'GRAPH_INVALID_CONDITION';
  constructor(
    message: string,
    /** Offset in the condition text. */
    readonly position: number,
  ) {
    super(message);
    this.name = 'ConditionSyntaxError';
  }
}

type Token =
  | { t: 'num'; v: number; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'ident'; v: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')'];
const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_.-]/;
const MAX_LENGTH = 4096;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"') {
      let value = '';
      i++;
      while (i < src.length && src[i] !== ch) {
        if (src[i] === '\\' && i + 1 < src.length) i++;
        value += src[i];
        i++;
      }
      if (i >= src.length) throw new ConditionSyntaxError(`unterminated string starting at ${start}`, start);
      i++;
      tokens.push({ t: 'str', v: value, pos: start });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '-' && /[0-9.]/.test(src[i + 1] ?? ''))) {
      const m = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i));
      if (!m) throw new ConditionSyntaxError(`bad number at ${start}`, start);
      i += m[0].length;
      tokens.push({ t: 'num', v: Number(m[0]), pos: start });
      continue;
    }
    if (IDENT_START.test(ch)) {
      while (i < src.length && IDENT_CHAR.test(src[i]!)) i++;
      tokens.push({ t: 'ident', v: src.slice(start, i), pos: start });
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ConditionSyntaxError(`unexpected character "${ch}" at ${start}`, start);
    i += op.length;
    tokens.push({ t: 'op', v: op, pos: start });
  }
  tokens.push({ t: 'end', pos: src.length });
  return tokens;
}

const COMPARE_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): ConditionNode {
    const node = this.or();
    const next = this.peek();
    if (next.t !== 'end') throw new ConditionSyntaxError(`unexpected ${describe(next)} at ${next.pos}`, next.pos);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }

  private or(): ConditionNode {
    let left = this.and();
    while (this.isOp('||')) {
      this.i++;
      left = { type: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): ConditionNode {
    let left = this.unary();
    while (this.isOp('&&')) {
      this.i++;
      left = { type: 'and', left, right: this.unary() };
    }
    return left;
  }

  private unary(): ConditionNode {
    if (this.isOp('!')) {
      this.i++;
      return { type: 'not', operand: this.unary() };
    }
    return this.compare();
  }

  private compare(): ConditionNode {
    const left = this.primary();
    const t = this.peek();
    if (t.t === 'op' && COMPARE_OPS.has(t.v)) {
      this.i++;
      const right = this.primary();
      const after = this.peek();
      if (after.t === 'op' && COMPARE_OPS.has(after.v)) {
        throw new ConditionSyntaxError(
          `comparisons cannot be chained (at ${after.pos}); use && and parentheses`,
          after.pos,
        );
      }
      return { type: 'compare', op: t.v as CompareOp, left, right };
    }
    return left;
  }

  private primary(): ConditionNode {
    const t = this.peek();
    this.i++;
    switch (t.t) {
      case 'num':
        return { type: 'literal', value: t.v };
      case 'str':
        return { type: 'literal', value: t.v };
      case 'ident': {
        if (t.v === 'true' || t.v === 'false') return { type: 'literal', value: t.v === 'true' };
        if (t.v === 'null') return { type: 'literal', value: null };
        const ref = parseReferencePath(t.v);
        if (!ref) {
          throw new ConditionSyntaxError(
            `unknown name "${t.v}" at ${t.pos} (expected inputs.<name>, tasks.<id>.outputs.<name> or tasks.<id>.status)`,
            t.pos,
          );
        }
        return { type: 'ref', ref, path: t.v };
      }
      case 'op':
        if (t.v === '(') {
          const inner = this.or();
          if (!this.isOp(')')) {
            const at = this.peek();
            throw new ConditionSyntaxError(`expected ")" at ${at.pos}, found ${describe(at)}`, at.pos);
          }
          this.i++;
          return inner;
        }
        throw new ConditionSyntaxError(`unexpected "${t.v}" at ${t.pos}`, t.pos);
      case 'end':
        throw new ConditionSyntaxError('unexpected end of condition', t.pos);
    }
  }
}

function describe(t: Token): string {
  if (t.t === 'end') return 'end of condition';
  return `"${String(t.v)}"`;
}

/** Strip an optional `${{ ... }}` wrapper (GitHub Actions habit). */
function unwrap(src: string): string {
  const s = src.trim();
  if (s.startsWith('${{') && s.endsWith('}}') && s.indexOf('${{', 3) < 0) return s.slice(3, -2);
  return s;
}

/** Parse a condition; throws ConditionSyntaxError. */
export function parseCondition(src: string): ConditionNode {
  if (src.length > MAX_LENGTH) throw new ConditionSyntaxError(`condition longer than ${MAX_LENGTH} characters`, 0);
  const body = unwrap(src);
  if (body.trim() === '') throw new ConditionSyntaxError('empty condition', 0);
  return new Parser(tokenize(body)).parse();
}

/** Every reference a parsed condition reads. */
export function conditionReferences(node: ConditionNode, out: Reference[] = []): Reference[] {
  switch (node.type) {
    case 'ref':
      out.push(node.ref);
      break;
    case 'not':
      conditionReferences(node.operand, out);
      break;
    case 'and':
    case 'or':
    case 'compare':
      conditionReferences(node.left, out);
      conditionReferences(node.right, out);
      break;
    case 'literal':
      break;
  }
  return out;
}
