// Extraction of a finished attempt's declared outputs (OutputSpec): from
// captured stdout, from a file in the work dir, from a field of stdout
// parsed as JSON, or (http) from the response status and headers. Outputs are all-or-nothing: a missing or oversized value
// fails the attempt with a message naming the output, never a silent cut.
import { openSync, readSync, closeSync, fstatSync } from 'node:fs';
import path from 'node:path';
import type { OutputSpec } from '@orrery/protocol/client';

/** Values some executors report besides stdout. */
export interface OutputValues {
  /** http: the response status. */
  status?: number;
  /** http: response headers, names lower-cased. */
  headers?: Record<string, string>;
  /** The JSON document `json` outputs read instead of parsing stdout (mcp: structuredContent). */
  document?: { value: unknown };
}

export interface OutputContext extends OutputValues {
  /** Executor kind, for messages. */
  kind?: string;
  /** Captured stdout (decoded, trailing newline trimmed). */
  stdout: string;
  /** stdout was longer than the capture limit. */
  stdoutTruncated: boolean;
  cwd: string;
  maxBytes: number;
}

export type OutputExtraction =
  | { ok: true; outputs: Record<string, string> }
  | { ok: false; error: string };

/** Removes one trailing "\n" or "\r\n", as shells do for $(...). */
export function trimTrailingNewline(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}

function readCapped(file: string, maxBytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw new Error(`file is ${size} bytes, over the ${maxBytes}-byte output limit`);
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Follows a dotted path ("a.b.0.c") through objects and arrays. */
export function selectPath(value: unknown, dotted: string): { found: boolean; value?: unknown } {
  if (dotted === '' || dotted === '.') return { found: true, value };
  let cur: unknown = value;
  for (const part of dotted.replace(/^\./, '').split('.')) {
    if (cur === null || typeof cur !== 'object') return { found: false };
    if (!Object.hasOwn(cur, part)) return { found: false };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

/** What `stdout` means for each executor, for messages. */
function stdoutName(kind: string | undefined): string {
  if (kind === 'http') return 'the response body';
  if (kind === 'mcp') return 'the tool result';
  return 'stdout';
}

function asOutputString(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function extractOutputs(specs: readonly OutputSpec[], ctx: OutputContext): OutputExtraction {
  const outputs: Record<string, string> = {};
  let parsed: { ok: true; value: unknown } | { ok: false; error: string } | undefined;
  for (const spec of specs) {
    const name = spec.name;
    switch (spec.source || 'stdout') {
      case 'stdout': {
        if (ctx.stdoutTruncated) {
          return { ok: false, error: `output '${name}': stdout exceeds the ${ctx.maxBytes}-byte capture limit` };
        }
        outputs[name] = ctx.stdout;
        break;
      }
      case 'file': {
        if (!spec.path) return { ok: false, error: `output '${name}': source 'file' needs a path` };
        const file = path.resolve(ctx.cwd, spec.path);
        try {
          outputs[name] = readCapped(file, ctx.maxBytes);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const why = e.code === 'ENOENT' ? `file ${spec.path} does not exist` : e.message;
          return { ok: false, error: `output '${name}': ${why}` };
        }
        break;
      }
      case 'json': {
        if (ctx.stdoutTruncated) {
          return { ok: false, error: `output '${name}': stdout exceeds the ${ctx.maxBytes}-byte capture limit` };
        }
        if (!parsed && ctx.document) parsed = { ok: true, value: ctx.document.value };
        if (!parsed) {
          try {
            parsed = { ok: true, value: JSON.parse(ctx.stdout) as unknown };
          } catch (err) {
            parsed = { ok: false, error: (err as Error).message };
          }
        }
        if (!parsed.ok) return { ok: false, error: `output '${name}': ${stdoutName(ctx.kind)} is not valid JSON (${parsed.error})` };
        const sel = selectPath(parsed.value, spec.path);
        if (!sel.found) return { ok: false, error: `output '${name}': path '${spec.path}' not found in the JSON of ${stdoutName(ctx.kind)}` };
        outputs[name] = asOutputString(sel.value);
        break;
      }
      case 'status': {
        if (ctx.status === undefined) return { ok: false, error: `output '${name}': source 'status' is only for http tasks (this is ${ctx.kind ?? 'shell'})` };
        outputs[name] = String(ctx.status);
        break;
      }
      case 'header': {
        if (!ctx.headers) return { ok: false, error: `output '${name}': source 'header' is only for http tasks (this is ${ctx.kind ?? 'shell'})` };
        const value = ctx.headers[spec.path.toLowerCase()];
        if (value === undefined) return { ok: false, error: `output '${name}': the response has no '${spec.path}' header` };
        outputs[name] = value;
        break;
      }
      default:
        return { ok: false, error: `output '${name}': unknown source '${spec.source}' (stdout, file, json, status or header)` };
    }
  }
  return { ok: true, outputs };
}
