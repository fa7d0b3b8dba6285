// Checks of executor arguments beyond their JSON Schema (which already fixed
// the shapes): values that must parse (URLs, durations), fields that belong
// to one kind only, and outputs only some kinds produce. Values containing
// ${{ }} templates are checked by the agent once resolved. Used on graphs
// (with the task's path) and on task specs that arrive through edits.
import type { ExecutorSpec, OutputSource } from '../model/types.js';
import { workDirPathProblem } from './artifact-refs.js';
import { parseDuration } from './durations.js';
import { type GraphIssue, toPointer } from './graph-error.js';
import type { RawTask } from './normalise.js';
import { executorArgsSchemaIssues } from './schema.js';

type Path = Array<string | number>;

/** Kinds whose args have a schema (definitions `<kind>Args`). */
const KINDS_WITH_ARGS = ['http', 'mcp', 'adb'];

const hasTemplate = (v: unknown): boolean => typeof v === 'string' && v.includes('${{');

function issue(path: Path, message: string): GraphIssue {
  return { code: 'GRAPH_SCHEMA', path: toPointer(path), message };
}

function durationIssue(at: Path, args: Record<string, unknown>): GraphIssue[] {
  const v = args.timeout;
  if (v === undefined || hasTemplate(v) || parseDuration(v) !== undefined) return [];
  return [
    issue([...at, 'timeout'], `invalid duration ${JSON.stringify(v)}: use milliseconds or "500ms", "10s", "5m", "1h"`),
  ];
}

function httpIssues(at: Path, args: Record<string, unknown>): GraphIssue[] {
  const out: GraphIssue[] = [];
  const url = args.url;
  if (typeof url === 'string' && !hasTemplate(url)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      out.push(
        issue([...at, 'url'], `invalid URL ${JSON.stringify(url)}: expected http://host/path or https://host/path`),
      );
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      out.push(issue([...at, 'url'], `URL must be http:// or https://, not ${parsed.protocol}`));
    }
  }
  const method = typeof args.method === 'string' ? args.method : 'GET';
  if (args.body !== undefined && (method === 'GET' || method === 'HEAD')) {
    out.push(issue([...at, 'body'], `a ${method} request has no body: set method (POST, PUT, PATCH...) or drop body`));
  }
  return [...out, ...durationIssue(at, args)];
}

/** Value checks of `args` for `kind`, with paths under `at` (the args' own path). */
function argsValueIssues(kind: string, args: Record<string, unknown>, at: Path): GraphIssue[] {
  if (kind === 'http') return httpIssues(at, args);
  if (kind === 'mcp') return durationIssue(at, args);
  if (kind === 'adb' && args.push === undefined && args.shell === undefined && args.pull === undefined) {
    return [issue(at, 'an adb executor needs at least one of push, shell, pull')];
  }
  if (kind === 'adb') return adbLocalIssues(args, at);
  return [];
}

/** adb's local files are the work dir's (the agent may run adb as root). */
function adbLocalIssues(args: Record<string, unknown>, at: Path): GraphIssue[] {
  const out: GraphIssue[] = [];
  for (const key of ['push', 'pull'] as const) {
    const v = args[key];
    const list = v === undefined ? [] : Array.isArray(v) ? v : [v];
    list.forEach((t, i) => {
      const local = (t as { local?: unknown } | null)?.local;
      const why = typeof local === 'string' ? workDirPathProblem(local) : null;
      const where = Array.isArray(v) ? [...at, key, i, 'local'] : [...at, key, 'local'];
      if (why) out.push(issue(where, `adb ${key} local path ${JSON.stringify(local)} ${why}`));
    });
  }
  return out;
}

function httpOnlyOutput(o: unknown): boolean {
  if (o === 'status' || (typeof o === 'object' && o !== null && 'header' in o)) return true;
  const from = (o as { from?: unknown } | null)?.from;
  return from === 'status' || from === 'header';
}

/** A file output's path, raw (`{ file }`) or normalised (`{ from: 'file', path }`). */
function fileOutputPath(o: unknown): { key: string; path: string } | undefined {
  if (typeof o !== 'object' || o === null) return undefined;
  const r = o as { file?: unknown; from?: unknown; path?: unknown };
  if (typeof r.file === 'string') return { key: 'file', path: r.file };
  if (r.from === 'file' && typeof r.path === 'string') return { key: 'path', path: r.path };
  return undefined;
}

function outputIssues(kind: string, outputs: Record<string, unknown>, at: Path): GraphIssue[] {
  const out = Object.entries(outputs)
    .filter(([, o]) => httpOnlyOutput(o) && kind !== 'http')
    .map(([name]) =>
      issue([...at, name], `output ${name}: status and header outputs come from http tasks, not ${kind}`),
    );
  // The agent reads file outputs (possibly as root): only files of the task's own work dir.
  for (const [name, o] of Object.entries(outputs)) {
    const file = fileOutputPath(o);
    const why = file && workDirPathProblem(file.path);
    if (file && why) out.push(issue([...at, name, file.key], `output ${name}: file ${JSON.stringify(file.path)} ${why}`));
  }
  return out;
}

/** Issues of task `id`'s executor args (after the graph schema) and of outputs its kind cannot produce. */
export function executorArgsIssues(id: string, t: RawTask): GraphIssue[] {
  const ex = t.executor;
  const kind = ex?.kind ?? 'shell';
  const out: GraphIssue[] = [];
  if (ex && KINDS_WITH_ARGS.includes(kind) && ex.command !== undefined) {
    out.push(
      issue(
        ['tasks', id, 'executor', 'command'],
        `command is only for shell executors; the ${kind} executor takes args`,
      ),
    );
  }
  if (ex && kind === 'shell' && ex.args !== undefined) {
    out.push(issue(['tasks', id, 'executor', 'args'], 'a shell executor takes a command, not args'));
  }
  out.push(...argsValueIssues(kind, ex?.args ?? {}, ['tasks', id, 'executor', 'args']));
  out.push(...outputIssues(kind, t.outputs ?? {}, ['tasks', id, 'outputs']));
  return out;
}

/**
 * The first problem of a normalised task's executor and outputs (schema and
 * values), as "<path>: <message>" relative to the task, or null.
 */
export function executorSpecProblem(executor: ExecutorSpec, outputs: Record<string, OutputSource>): string | null {
  const kind = executor.kind;
  const issues: GraphIssue[] = [];
  if (KINDS_WITH_ARGS.includes(kind)) {
    if (executor.args === undefined) issues.push(issue(['executor'], `the ${kind} executor needs args`));
    else {
      issues.push(...executorArgsSchemaIssues(kind, executor.args, '/executor/args'));
      if (issues.length === 0) issues.push(...argsValueIssues(kind, executor.args, ['executor', 'args']));
    }
  }
  issues.push(...outputIssues(kind, outputs, ['outputs']));
  const first = issues[0];
  return first ? `${first.path}: ${first.message}` : null;
}
