// A tiny declarative validator for the agent config file. Each check walks
// its value, records every problem with the key path and what to do, and
// returns the cleaned value (or undefined). Kept in-house: the agent ships as
// one small bundle, and these few shapes do not need a schema engine.

export interface ConfigIssue {
  /** Dotted key path, e.g. `slots` or `safety.commands.2`. */
  path: string;
  message: string;
}

export type Check<T> = (value: unknown, path: string, issues: ConfigIssue[]) => T | undefined;

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'a mapping' : `${typeof v} ${show(v)}`;
}

export function str(opts: { nonEmpty?: boolean; pattern?: RegExp; hint?: string } = {}): Check<string> {
  return (v, p, issues) => {
    if (typeof v !== 'string') {
      issues.push({ path: p, message: `expected a string, got ${typeName(v)}` });
      return undefined;
    }
    // Values end up in service files, logs and headers, where a newline starts something new.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    if (/[\u0000-\u001f\u007f]/.test(v)) {
      issues.push({ path: p, message: `${show(v)} contains a control character (newline, tab...); remove it` });
      return undefined;
    }
    if (opts.nonEmpty !== false && v.trim() === '') {
      issues.push({ path: p, message: 'must not be empty (remove the key to use the default)' });
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      issues.push({ path: p, message: `${show(v)} is not valid${opts.hint ? `: ${opts.hint}` : ''}` });
      return undefined;
    }
    return v;
  };
}

export function oneOf<T extends string>(choices: readonly T[]): Check<T> {
  return (v, p, issues) => {
    if (typeof v !== 'string' || !choices.includes(v as T)) {
      issues.push({ path: p, message: `expected one of ${choices.join(', ')}, got ${typeName(v)}` });
      return undefined;
    }
    return v as T;
  };
}

export function int(opts: { min?: number; max?: number } = {}): Check<number> {
  return (v, p, issues) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      issues.push({ path: p, message: `expected a whole number, got ${typeName(v)}` });
      return undefined;
    }
    if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
      const range =
        opts.max === undefined ? `at least ${opts.min}` : opts.min === undefined ? `at most ${opts.max}` : `${opts.min}..${opts.max}`;
      issues.push({ path: p, message: `must be ${range}, got ${v}` });
      return undefined;
    }
    return v;
  };
}

export function num(opts: { min?: number } = {}): Check<number> {
  return (v, p, issues) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push({ path: p, message: `expected a number, got ${typeName(v)}` });
      return undefined;
    }
    if (opts.min !== undefined && v < opts.min) {
      issues.push({ path: p, message: `must be at least ${opts.min}, got ${v}` });
      return undefined;
    }
    return v;
  };
}

export function bool(): Check<boolean> {
  return (v, p, issues) => {
    if (typeof v !== 'boolean') {
      issues.push({ path: p, message: `expected true or false, got ${typeName(v)}` });
      return undefined;
    }
    return v;
  };
}

/** A list; a comma-separated string is accepted too (as on the command line). */
export function list<T>(item: Check<T>, opts: { commaString?: boolean } = {}): Check<T[]> {
  return (v, p, issues) => {
    let arr: unknown[];
    if (Array.isArray(v)) arr = v;
    else if (opts.commaString && typeof v === 'string') {
      arr = v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    } else {
      issues.push({ path: p, message: `expected a list, got ${typeName(v)}` });
      return undefined;
    }
    const before = issues.length;
    const out = arr.map((x, i) => item(x, `${p}.${i}`, issues));
    return issues.length === before ? (out as T[]) : undefined;
  };
}

/** A mapping with free keys (e.g. resources: {gpu-mem-gb: 24}). */
export function record<T>(value: Check<T>, keyPattern = /^[A-Za-z0-9_.:-]{1,64}$/): Check<Record<string, T>> {
  return (v, p, issues) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      issues.push({ path: p, message: `expected a mapping, got ${typeName(v)}` });
      return undefined;
    }
    const before = issues.length;
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) {
      if (!keyPattern.test(k)) {
        issues.push({ path: `${p}.${k}`, message: 'names may use letters, digits and _ . : - (at most 64)' });
        continue;
      }
      const c = value(x, `${p}.${k}`, issues);
      if (c !== undefined) out[k] = c;
    }
    return issues.length === before ? out : undefined;
  };
}

export interface Field<T = unknown> {
  check: Check<T>;
  /** One line for `--help`-like listings and the README. */
  describe: string;
}

export type Shape = Record<string, Field>;
export type ShapeValue<S extends Shape> = { [K in keyof S]?: S[K] extends Field<infer T> ? T : never };

/** A mapping with known keys; unknown keys are errors (a typo must not be silently ignored). */
export function object<S extends Shape>(shape: S): Check<ShapeValue<S>> {
  return (v, p, issues) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      issues.push({ path: p || '(top level)', message: `expected a mapping of keys, got ${typeName(v)}` });
      return undefined;
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const keyPath = p ? `${p}.${k}` : k;
      const field = shape[k];
      if (!field) {
        const near = nearest(k, Object.keys(shape));
        issues.push({
          path: keyPath,
          message: `unknown key${near ? ` (did you mean '${near}'?)` : ''}; known keys: ${Object.keys(shape).join(', ')}`,
        });
        continue;
      }
      if (x === null || x === undefined) continue; // `key:` with no value = not set
      const c = field.check(x, keyPath, issues);
      if (c !== undefined) out[k] = c;
    }
    return out as ShapeValue<S>;
  };
}

function nearest(word: string, candidates: string[]): string | undefined {
  const lower = word.toLowerCase().replace(/[-_]/g, '');
  return candidates.find((c) => c.toLowerCase() === lower) ?? candidates.find((c) => distance(c.toLowerCase(), word.toLowerCase()) <= 2);
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}
