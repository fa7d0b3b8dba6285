// The `http` executor: one HTTP request made by the agent itself (fetch).
// The response body streams to the log as stdout and is the attempt's
// stdout for outputs; `status` and `header` outputs read the response.
// A status outside `expectStatus` (default: any 2xx) fails the attempt.
// Redirects are followed by hand so each hop passes the host allowlist.
import type { Assign } from '@orrery/protocol/client';
import { type CommandPolicy, notAllowed } from '../safety/policy.js';
import { type Args, ArgsError, duration, onlyKeys, parseArgsJson, readArgs, str, strMap } from './args.js';
import { type AttemptIo, startAttempt, type WorkEnd } from './attempt-runner.js';
import type { AssignProblem, AttemptHooks, ExecutorSettings, RunningAttempt, TaskExecutor } from './types.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const MAX_REDIRECTS = 10;

export interface HttpArgs {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Text to send; JSON bodies are already serialised. */
  body?: string;
  timeoutMs?: number;
  /** Accepted statuses; undefined = 200..299. */
  expectStatus?: number[];
}

export function parseHttpArgs(args: Args): HttpArgs {
  onlyKeys(args, ['method', 'url', 'headers', 'body', 'timeout', 'expectStatus']);
  const method = (args.method === undefined ? 'GET' : str(args, 'method')).toUpperCase();
  if (!(HTTP_METHODS as readonly string[]).includes(method)) {
    throw new ArgsError(`args.method must be one of ${HTTP_METHODS.join(', ')}, not ${JSON.stringify(args.method)}`);
  }
  const rawUrl = str(args, 'url');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ArgsError(`args.url is not a valid URL: ${JSON.stringify(rawUrl)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ArgsError(`args.url must be http:// or https://, not ${url.protocol}`);
  const headers = strMap(args, 'headers');
  let body: string | undefined;
  if (args.body !== undefined) {
    if (method === 'GET' || method === 'HEAD') throw new ArgsError(`args.body is not allowed with ${method}`);
    if (typeof args.body === 'string') body = args.body;
    else {
      body = JSON.stringify(args.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
        headers['content-type'] = 'application/json';
    }
  }
  const timeoutMs = duration(args, 'timeout');
  const parsed: HttpArgs = { method, url, headers };
  if (body !== undefined) parsed.body = body;
  if (timeoutMs !== undefined && timeoutMs > 0) parsed.timeoutMs = timeoutMs;
  if (args.expectStatus !== undefined) parsed.expectStatus = statusList(args.expectStatus);
  return parsed;
}

function statusList(v: unknown): number[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.some((s) => !Number.isInteger(s) || (s as number) < 100 || (s as number) > 599)) {
    throw new ArgsError('args.expectStatus must be a status code (100-599) or a list of them');
  }
  return list as number[];
}

/** The request's host is allowed when `host:port` or the bare hostname matches. */
function hostAllowed(policy: CommandPolicy | undefined, url: URL): boolean {
  return !policy || policy.matches(url.host) || policy.matches(url.hostname);
}

export class HttpExecutor implements TaskExecutor {
  readonly kind = 'http';

  constructor(
    private readonly settings: ExecutorSettings,
    private readonly allow?: CommandPolicy,
  ) {}

  check(assign: Assign): AssignProblem | undefined {
    const read = readArgs(assign, parseHttpArgs);
    if ('problem' in read) return read.problem;
    const args = read.args;
    if (!hostAllowed(this.allow, args.url))
      return notAllowed(this.allow!, `http host ${JSON.stringify(args.url.host)}`);
    return undefined;
  }

  describe(assign: Assign): string {
    try {
      const a = parseHttpArgs(parseArgsJson(assign));
      return `${a.method} ${a.url.origin}${a.url.pathname}`;
    } catch {
      return 'http (bad args)';
    }
  }

  run(assign: Assign, hooks: AttemptHooks = {}): RunningAttempt {
    return startAttempt(this.settings, assign, hooks, (io) => this.request(io, parseHttpArgs(parseArgsJson(assign))));
  }

  private async request(io: AttemptIo, args: HttpArgs): Promise<WorkEnd> {
    // One controller for this request: the attempt's cancel/timeout and the request timeout.
    const ctl = new AbortController();
    const onAbort = (): void => ctl.abort();
    io.signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer =
      args.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            ctl.abort();
          }, args.timeoutMs)
        : undefined;
    const started = Date.now();
    try {
      const res = await this.fetchFollowing(io, args, ctl.signal);
      if ('problem' in res) return { error: res.problem };
      const response = res.response;
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      if (response.body) {
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) io.stdout(Buffer.from(chunk));
      }
      const expected = args.expectStatus;
      const ok = expected ? expected.includes(response.status) : response.status >= 200 && response.status < 300;
      io.note(`${args.method} ${res.url} -> ${response.status} ${response.statusText} (${Date.now() - started} ms)`);
      if (!ok) {
        const want = expected ? expected.join(', ') : '2xx';
        return {
          error: `HTTP_STATUS: expected ${want}, got ${response.status} ${response.statusText}`.trim(),
          exitCode: 1,
          status: response.status,
          headers,
        };
      }
      return { status: response.status, headers };
    } catch (err) {
      if (io.signal.aborted) return {}; // cancelled or timed out: the runner reports it
      if (timedOut) return { error: `HTTP_TIMEOUT: no complete response within ${args.timeoutMs} ms (args.timeout)` };
      return { error: `HTTP_REQUEST_FAILED: ${describeFetchError(err)}` };
    } finally {
      if (timer) clearTimeout(timer);
      io.signal.removeEventListener('abort', onAbort);
    }
  }

  private async fetchFollowing(
    io: AttemptIo,
    args: HttpArgs,
    signal: AbortSignal,
  ): Promise<{ response: Response; url: string } | { problem: string }> {
    let url = args.url;
    let method = args.method;
    let body = args.body;
    const headers = { ...args.headers };
    for (let hop = 0; ; hop++) {
      const response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        redirect: 'manual',
        signal,
      });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status > 399 || !location) return { response, url: url.href };
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) return { problem: `HTTP_REQUEST_FAILED: more than ${MAX_REDIRECTS} redirects` };
      const next = new URL(location, url);
      if (!hostAllowed(this.allow, next)) {
        const refused = notAllowed(this.allow!, `redirect to http host ${JSON.stringify(next.host)}`);
        return { problem: `${refused.code}: ${refused.message}` };
      }
      io.note(`${method} ${url.href} -> ${response.status}, following to ${next.href}`);
      // As browsers do: 303 (and 301/302 after POST) become a GET without a body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        for (const h of Object.keys(headers)) if (h.toLowerCase() === 'content-type') delete headers[h];
      }
      // Headers meant for one origin do not travel to another: any of them may be a
      // credential (X-Api-Key, a custom token...). Only the body's Content-Type stays with the body.
      if (next.origin !== url.origin) {
        const dropped: string[] = [];
        for (const h of Object.keys(headers)) {
          if (body !== undefined && h.toLowerCase() === 'content-type') continue;
          delete headers[h];
          dropped.push(h);
        }
        if (dropped.length > 0) io.note(`cross-origin redirect: not sending ${dropped.join(', ')} to ${next.origin}`);
      }
      url = next;
    }
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, DNS...). */
function describeFetchError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause
    ? ` (${e.cause.code ?? ''}${e.cause.code && e.cause.message ? ': ' : ''}${e.cause.message ?? ''})`
    : '';
  return `${e.message}${cause}`;
}
