// Checks of executor arguments beyond their JSON Schema (which already fixed
// the shapes): values that must parse (URLs, durations), fields that belong
// to one kind only, and outputs only some kinds produce. Values containing
// ${{ }} templates are checked by the agent once resolved.
import { parseDuration } from './durations.js';
import { type GraphIssue, toPointer } from './graph-error.js';
import type { RawTask } from './normalise.js';

const hasTemplate = (v: unknown): boolean => typeof v === 'string' && v.includes('${{');

function issue(path: Array<string | number>, message: string): GraphIssue {
  return { code: 'GRAPH_SCHEMA', path: toPointer(path), message };
}

function durationIssue(id: string, args: Record<string, unknown>): GraphIssue[] {
  const v = args.timeout;
  if (v === undefined || hasTemplate(v) || parseDuration(v) !== undefined) return [];
  return [
    issue(
      ['tasks', id, 'executor', 'args', 'timeout'],
      `invalid duration ${JSON.stringify(v)}: use milliseconds or "500ms", "10s", "5m", "1h"`,
    ),
  ];
}

function httpIssues(id: string, args: Record<string, unknown>): GraphIssue[] {
  const out: GraphIssue[] = [];
  const at = (k: string) => ['tasks', id, 'executor', 'args', k];
  const url = args.url;
  if (typeof url === 'string' && !hasTemplate(url)) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      out.push(issue(at('url'), `invalid URL ${JSON.stringify(url)}: expected http://host/path or https://host/path`));
    }
    if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      out.push(issue(at('url'), `URL must be http:// or https://, not ${parsed.protocol}`));
    }
  }
  const method = typeof args.method === 'string' ? args.method : 'GET';
  if (args.body !== undefined && (method === 'GET' || method === 'HEAD')) {
    out.push(issue(at('body'), `a ${method} request has no body: set method (POST, PUT, PATCH...) or drop body`));
  }
  return [...out, ...durationIssue(id, args)];
}

/** Issues of task `id`'s executor args and of outputs its kind cannot produce. */
export function executorArgsIssues(id: string, t: RawTask): GraphIssue[] {
  const ex = t.executor;
  const kind = ex?.kind ?? 'shell';
  const out: GraphIssue[] = [];
  if (ex && kind !== 'shell' && ex.command !== undefined && ['http', 'mcp', 'adb'].includes(kind)) {
    out.push(
      issue(['tasks', id, 'executor', 'command'], `command is only for shell executors; a ${kind} executor takes args`),
    );
  }
  if (ex && kind === 'shell' && ex.args !== undefined) {
    out.push(issue(['tasks', id, 'executor', 'args'], 'a shell executor takes a command, not args'));
  }
  const args = ex?.args ?? {};
  if (kind === 'http') out.push(...httpIssues(id, args));
  if (kind === 'mcp') out.push(...durationIssue(id, args));
  if (kind === 'adb' && args.push === undefined && args.shell === undefined && args.pull === undefined) {
    out.push(issue(['tasks', id, 'executor', 'args'], 'an adb executor needs at least one of push, shell, pull'));
  }
  for (const [name, o] of Object.entries(t.outputs ?? {})) {
    const httpOnly = o === 'status' || (typeof o === 'object' && 'header' in o);
    if (httpOnly && kind !== 'http') {
      out.push(
        issue(
          ['tasks', id, 'outputs', name],
          `output ${name}: status and header outputs come from http tasks, not ${kind}`,
        ),
      );
    }
  }
  return out;
}
