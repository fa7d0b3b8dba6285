// The built-in planner's controlled language (docs/planner.md):
//
//   plan    = [NAME ":"] stage { ("then" | "finally") stage }
//   stage   = ["in parallel"] clause { "and" clause }
//   clause  = "on" target ["as" id] ["(" option { "," option } ")"] ":" command
//   target  = ["device" | "label"] NAME | "any"
//   option  = "retries" INT | "timeout" DURATION | "output" NAME | "after" ID
//           | "artifact" NAME "=" PATH | "input" PATH "=" ID "." NAME
//
// A command runs to the next "then on ...:", "finally on ...:", "and on ...:"
// or the end; wrap it in backticks to use those words inside it. Parsing is
// by hand (no grammar library) so errors can say where and what was expected.
import { OrreryError } from '../errors.js';

export interface Clause {
  /** Where the clause starts (0-based offset into the sentence), for messages. */
  at: number;
  target: { kind: 'auto' | 'device' | 'label' | 'any'; name: string; at: number };
  id?: string;
  retries?: number;
  timeout?: string;
  output?: string;
  after: string[];
  /** Files kept on success: name -> path or glob. */
  artifacts: Record<string, string>;
  /** Files fetched before the task starts: destination path -> producer task and artifact. */
  inputs: Record<string, { task: string; artifact: string }>;
  command: string;
}

export interface Stage {
  /** How this stage waits for the previous one: success of all, or completion (finally). */
  join: 'success' | 'completion';
  clauses: Clause[];
}

const NAME = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
/** The start of a clause, used as a lookahead so commands may contain "then" and "and". */
const CLAUSE_START = `on\\s+(?:(?:device|label)\\s+)?${NAME}(?:\\s+as\\s+[A-Za-z0-9_-]+)?\\s*(?:\\([^)]*\\))?\\s*:`;
const STAGE_BREAK = new RegExp(
  `\\s*[;,]?\\s*\\b(then|finally)\\s+(?=(?:in\\s+parallel\\s*[,:]?\\s*)?${CLAUSE_START})`,
  'iy',
);
const CLAUSE_BREAK = new RegExp(`\\s*[;,]?\\s*\\band\\s+(?=${CLAUSE_START})`, 'iy');
const ANY_BREAK = new RegExp(
  `\\s*[;,]?\\s*\\b(?:then|finally|and)\\s+(?=(?:in\\s+parallel\\s*[,:]?\\s*)?${CLAUSE_START})`,
  'ig',
);

export class ParseError extends OrreryError {
  constructor(sentence: string, at: number, expected: string) {
    const found = at >= sentence.length ? 'the end of the sentence' : JSON.stringify(sentence.slice(at, at + 20));
    const message = `at column ${at + 1}: expected ${expected}, found ${found}`;
    super('PLANNER_PARSE_ERROR', message, {
      status: 422,
      issues: [
        { code: 'PLANNER_PARSE_ERROR', message: `${message}\n  ${sentence}\n  ${' '.repeat(at)}^`, column: at + 1 },
      ],
      hint: 'Write steps as "on <device or label>: <command>", joined by "then", "and" or "finally" (docs/planner.md).',
    });
  }
}

class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  /** Consumes a keyword (case-insensitive, whole word). */
  keyword(word: string): boolean {
    this.skipSpace();
    const re = new RegExp(`${word.replace(/ /g, '\\s+')}(?![A-Za-z0-9_])`, 'iy');
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return false;
    this.pos += m[0].length;
    return true;
  }

  match(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m) this.pos += m[0].length;
    return m;
  }

  expectChar(ch: string, what: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== ch) throw new ParseError(this.text, this.pos, what);
    this.pos++;
  }

  word(re: RegExp, what: string): { value: string; at: number } {
    this.skipSpace();
    const at = this.pos;
    const m = this.match(re);
    if (!m) throw new ParseError(this.text, at, what);
    return { value: m[0], at };
  }

  get done(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }
}

const NAME_WORD = /[A-Za-z0-9_][A-Za-z0-9_.-]*/y;
const ID_WORD = /[A-Za-z0-9_][A-Za-z0-9_-]*/y;
const PATH_WORD = /[^\s,()=]+/y;

function parseOptions(s: Scanner, clause: Clause): void {
  s.skipSpace();
  if (s.text[s.pos] !== '(') return;
  s.pos++;
  for (;;) {
    s.skipSpace();
    const at = s.pos;
    if (s.keyword('retries')) {
      const n = s.word(/\d+/y, 'a number of retries');
      clause.retries = Number(n.value);
    } else if (s.keyword('timeout')) {
      clause.timeout = s.word(/\d+(?:ms|s|m|h)?/y, 'a duration like 30s, 10m or 1h').value;
    } else if (s.keyword('output')) {
      clause.output = s.word(ID_WORD, 'an output name').value;
    } else if (s.keyword('after')) {
      clause.after.push(s.word(ID_WORD, 'a task id').value);
    } else if (s.keyword('artifact')) {
      const name = s.word(ID_WORD, 'an artifact name').value;
      s.expectChar('=', '"=" and the file path after the artifact name');
      clause.artifacts[name] = s.word(PATH_WORD, 'a file path or glob (no spaces, commas or parentheses)').value;
    } else if (s.keyword('input')) {
      const dest = s.word(PATH_WORD, 'a destination path').value;
      s.expectChar('=', '"=" and <task>.<artifact> after the destination path');
      const task = s.word(ID_WORD, 'the producing task id').value;
      s.expectChar('.', '"." and the artifact name after the task id');
      clause.inputs[dest] = { task, artifact: s.word(ID_WORD, 'an artifact name').value };
    } else {
      throw new ParseError(
        s.text,
        at,
        'an option: retries N, timeout 10m, output NAME, after ID, artifact NAME=PATH or input PATH=TASK.ARTIFACT',
      );
    }
    s.skipSpace();
    if (s.text[s.pos] === ',') {
      s.pos++;
      continue;
    }
    s.expectChar(')', '"," or ")" after an option');
    return;
  }
}

function parseCommand(s: Scanner): string {
  s.skipSpace();
  const at = s.pos;
  if (s.text[s.pos] === '`') {
    const end = s.text.indexOf('`', s.pos + 1);
    if (end < 0)
      throw new ParseError(s.text, s.text.length, `a closing backtick for the command started at column ${at + 1}`);
    s.pos = end + 1;
    const cmd = s.text.slice(at + 1, end).trim();
    if (!cmd) throw new ParseError(s.text, at, 'a command between the backticks');
    return cmd;
  }
  ANY_BREAK.lastIndex = s.pos;
  const m = ANY_BREAK.exec(s.text);
  const end = m ? m.index : s.text.length;
  s.pos = end;
  const cmd = s.text
    .slice(at, end)
    .trim()
    .replace(/[;,]\s*$/, '')
    .trim();
  if (!cmd) throw new ParseError(s.text, at, 'a command after ":"');
  return cmd;
}

function parseClause(s: Scanner): Clause {
  s.skipSpace();
  const at = s.pos;
  if (!s.keyword('on')) throw new ParseError(s.text, at, '"on <device or label>: <command>"');
  let kind: Clause['target']['kind'] = 'auto';
  // "device x" / "label x" force the kind (unless the name itself is the keyword).
  const save = s.pos;
  if (s.keyword('device')) kind = 'device';
  else if (s.keyword('label')) kind = 'label';
  s.skipSpace();
  if (kind !== 'auto' && (s.text[s.pos] === ':' || s.text[s.pos] === '(' || /^as\s/i.test(s.text.slice(s.pos)))) {
    s.pos = save;
    kind = 'auto';
  }
  const name = s.word(NAME_WORD, 'a device or label name after "on"');
  const targetName = name.value;
  if (kind === 'auto' && targetName.toLowerCase() === 'any') kind = 'any';
  const clause: Clause = {
    at,
    target: { kind, name: targetName, at: name.at },
    after: [],
    artifacts: {},
    inputs: {},
    command: '',
  };
  if (s.keyword('as')) {
    const id = s.word(ID_WORD, 'a task id after "as"');
    if (!ID_RE.test(id.value))
      throw new ParseError(s.text, id.at, 'a task id of at most 64 letters, digits, "_" or "-"');
    clause.id = id.value;
  }
  parseOptions(s, clause);
  s.expectChar(':', '":" after the target');
  clause.command = parseCommand(s);
  return clause;
}

/** Parses a sentence of the controlled language. Throws ParseError (PLANNER_PARSE_ERROR). */
export function parseSentence(sentence: string): Stage[] {
  return parsePlan(sentence).stages;
}

/** A sentence with its optional leading graph name ("nightly: on server: make; then ..."). */
export function parsePlan(sentence: string): { name?: string; stages: Stage[] } {
  const s = new Scanner(sentence.trimEnd());
  if (s.done) throw new ParseError(s.text, 0, '"on <device or label>: <command>"');
  let name: string | undefined;
  const named = /([A-Za-z0-9_][A-Za-z0-9_.-]*)\s*:\s*/y;
  s.skipSpace();
  named.lastIndex = s.pos;
  const m = named.exec(s.text);
  if (m && !/^(on|in)$/i.test(m[1]!)) {
    name = m[1];
    s.pos += m[0].length;
  }
  return { ...(name ? { name } : {}), stages: parseStages(s) };
}

function parseStages(s: Scanner): Stage[] {
  const stages: Stage[] = [];
  let join: Stage['join'] = 'success';
  for (;;) {
    if (s.keyword('in parallel')) {
      s.skipSpace();
      if (s.text[s.pos] === ',' || s.text[s.pos] === ':') s.pos++;
    }
    const stage: Stage = { join, clauses: [parseClause(s)] };
    while (s.match(CLAUSE_BREAK)) stage.clauses.push(parseClause(s));
    stages.push(stage);
    const brk = s.match(STAGE_BREAK);
    if (brk) {
      join = brk[1]!.toLowerCase() === 'finally' ? 'completion' : 'success';
      continue;
    }
    if (!s.done) throw new ParseError(s.text, s.pos, '"then", "and" or "finally" before the next "on"');
    return stages;
  }
}
