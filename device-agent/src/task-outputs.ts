// Extraction of a finished attempt's declared outputs (OutputSpec): from
// captured stdout, from a file in the work dir, from a field of stdout
// parsed as JSON, or (http) from the response status and headers. Outputs are all-or-nothing: a missing or oversized value
// fails the attempt with a message naming the output, never a silent cut.
import { closeSync, constants as fsConstants, fstatSync, openSync, readlinkSync, readSync, realpathSync } from 'node:fs';
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

/** `rel` is relative and stays inside its root by name (no absolute path, no `..`). */
export function isConfinedRelative(rel: string): boolean {
  if (rel === '' || path.isAbsolute(rel) || path.win32.isAbsolute(rel)) return false;
  return !rel.split(/[\\/]/).includes('..');
}

/** `p` is `root` or below it (both resolved). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = fsConstants.O_NONBLOCK ?? 0;

/**
 * Reads `rel` under `root` for an output: only a regular file whose real path
 * is inside the root (a symlink out of it, a FIFO or a device is refused),
 * opened without following a last-component symlink and without blocking,
 * and at most `maxBytes`. The agent may be root while the task is not.
 */
export function readConfinedFile(root: string, rel: string, maxBytes: number): string {
  if (!isConfinedRelative(rel)) throw new Error(`path ${rel} must be relative to the work dir, without '..'`);
  const realRoot = realpathSync(root);
  const real = realpathSync(path.resolve(realRoot, rel));
  if (!isInside(realRoot, real)) throw new Error(`${rel} resolves outside the work dir (${real})`);
  const fd = openSync(real, fsConstants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error(`${rel} is not a regular file`);
    // A directory swapped for a symlink between the check and the open still shows here.
    if (process.platform === 'linux') {
      const opened = readlinkSync(`/proc/self/fd/${fd}`);
      if (!isInside(realRoot, opened)) throw new Error(`${rel} resolves outside the work dir (${opened})`);
    }
    // Read up to one byte past the cap rather than trusting st_size (the file may grow).
    const buf = Buffer.alloc(maxBytes + 1);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, null);
      if (n === 0) break;
      off += n;
    }
    if (off > maxBytes) throw new Error(`file is over the ${maxBytes}-byte output limit`);
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
        try {
          outputs[name] = readConfinedFile(ctx.cwd, spec.path, ctx.maxBytes);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          const why =
            e.code === 'ENOENT'
              ? `file ${spec.path} does not exist`
              : e.code === 'ELOOP'
                ? `${spec.path} is a symlink (not followed)`
                : e.message;
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
