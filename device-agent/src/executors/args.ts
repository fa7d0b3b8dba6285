// Helpers to read an Assign's `argsJson` (the graph's executor.args) with
// messages that name the field: the orchestrator validates args at submit,
// but the agent checks again and rejects with BAD_ASSIGN rather than trust
// what arrives over the wire.
import type { Assign } from '@orrery/protocol/client';
import type { AssignProblem } from './types.js';

export class ArgsError extends Error {}

export type Args = Record<string, unknown>;

export function parseArgsJson(assign: Assign): Args {
  const raw = assign.executor.argsJson;
  if (!raw) throw new ArgsError(`executor '${assign.executor.kind}' needs args`);
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (err) {
    throw new ArgsError(`args are not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ArgsError('args must be an object');
  return v as Args;
}

/**
 * An Assign's args read by one executor's parser; a malformed one becomes the
 * BAD_ASSIGN problem the agent rejects with (any other error is a bug and is thrown).
 */
export function readArgs<T>(assign: Assign, parse: (args: Args) => T): { args: T } | { problem: AssignProblem } {
  try {
    return { args: parse(parseArgsJson(assign)) };
  } catch (err) {
    if (err instanceof ArgsError)
      return { problem: { code: 'BAD_ASSIGN', message: `${assign.executor.kind}: ${err.message}` } };
    throw err;
  }
}

export function onlyKeys(args: Args, allowed: readonly string[], where = 'args'): void {
  for (const k of Object.keys(args)) {
    if (!allowed.includes(k)) throw new ArgsError(`unknown field ${where}.${k} (allowed: ${allowed.join(', ')})`);
  }
}

export function str(args: Args, key: string, where = 'args'): string {
  const v = args[key];
  if (typeof v !== 'string' || v === '') throw new ArgsError(`${where}.${key} must be a non-empty string`);
  return v;
}

export function optStr(args: Args, key: string, where = 'args'): string | undefined {
  return args[key] === undefined ? undefined : str(args, key, where);
}

export function strList(args: Args, key: string, where = 'args'): string[] {
  const v = args[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean')) {
    throw new ArgsError(`${where}.${key} must be a list of strings`);
  }
  return v.map(String);
}

/** A map of scalars, as strings. */
export function strMap(args: Args, key: string, where = 'args'): Record<string, string> {
  const v = args[key];
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ArgsError(`${where}.${key} must be a map`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') {
      throw new ArgsError(`${where}.${key}.${k} must be a string, number or boolean`);
    }
    out[k] = String(x);
  }
  return out;
}

/** ms number, or "500ms" "10s" "5m" "1h" (as in the graph format); undefined when absent. */
export function duration(args: Args, key: string, where = 'args'): number | undefined {
  const v = args[key];
  if (v === undefined) return undefined;
  const ms = parseDurationMs(v);
  if (ms === undefined) throw new ArgsError(`${where}.${key} must be a duration: ms, or "500ms", "10s", "5m", "1h"`);
  return ms;
}

export function parseDurationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
  return Math.round(Number(m[1]) * unit);
}
