// The http executor against a real HTTP server on loopback.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpExecutor } from '../src/executors/http.js';
import { CommandPolicy } from '../src/safety/policy.js';
import { executorSettings, makeKindAssign, recordHooks, tempDir, waitFor } from './helpers.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
let port: number;
const seen: Seen[] = [];
let abortedRequests = 0;

function route(req: IncomingMessage, res: ServerResponse, body: string): void {
  seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/json':
      res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'abc-123' });
      res.end(JSON.stringify({ items: [{ id: 7, name: 'seven' }], total: 1 }));
      return;
    case '/echo':
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          method: req.method,
          contentType: req.headers['content-type'] ?? '',
          token: req.headers['x-token'] ?? '',
          body,
        }),
      );
      return;
    case '/missing':
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such thing');
      return;
    case '/redirect':
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/json' });
      res.end();
      return;
    case '/hang':
      req.socket.on('close', () => {
        abortedRequests += 1;
      });
      return; // never answers
    case '/big':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('x'.repeat(5000));
      return;
    default:
      res.writeHead(500);
      res.end('unexpected path');
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString('utf8');
    });
    req.on('end', () => route(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function executor(dir: string, allow?: string[], extra = {}): HttpExecutor {
  return new HttpExecutor(executorSettings(dir, extra), allow ? new CommandPolicy('http', allow) : undefined);
}

describe('http executor', () => {
  it('GETs a URL and reads status, a header, the body and a JSON path as outputs', async () => {
    const tmp = tempDir();
    const ex = executor(tmp.dir);
    const rec = recordHooks();
    const a = makeKindAssign(
      'http',
      { url: `${base}/json` },
      {
        outputs: [
          { name: 'status', source: 'status', path: '' },
          { name: 'rid', source: 'header', path: 'X-Request-Id' },
          { name: 'name', source: 'json', path: 'items.0.name' },
          { name: 'body', source: 'stdout', path: '' },
        ],
      },
    );
    expect(ex.check(a)).toBeUndefined();
    const r = await ex.run(a, rec.hooks).done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toEqual({
      status: '200',
      rid: 'abc-123',
      name: 'seven',
      body: JSON.stringify({ items: [{ id: 7, name: 'seven' }], total: 1 }),
    });
    expect(rec.out.STDOUT).toBe(r.outputs.body);
    expect(rec.out.SYSTEM).toContain(`GET ${base}/json -> 200 OK`);
    expect(seen.at(-1)?.method).toBe('GET');
    tmp.cleanup();
  });

  it('POSTs a JSON body with headers (content-type set for it)', async () => {
    const tmp = tempDir();
    const a = makeKindAssign(
      'http',
      { method: 'post', url: `${base}/echo`, headers: { 'X-Token': 't0k' }, body: { a: [1, 2] } },
      {
        outputs: [
          { name: 'echo', source: 'json', path: '' },
          { name: 'status', source: 'status', path: '' },
        ],
      },
    );
    const r = await executor(tmp.dir).run(a).done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs.status).toBe('201');
    expect(JSON.parse(r.outputs.echo!)).toEqual({
      method: 'POST',
      contentType: 'application/json',
      token: 't0k',
      body: '{"a":[1,2]}',
    });
    // A string body goes as is, with the given content type.
    const text = makeKindAssign(
      'http',
      { method: 'PUT', url: `${base}/echo`, headers: { 'content-type': 'text/plain' }, body: 'plain words' },
      {
        outputs: [
          { name: 'body', source: 'json', path: 'body' },
          { name: 'ct', source: 'json', path: 'contentType' },
        ],
      },
    );
    const r2 = await executor(tmp.dir).run(text).done;
    expect(r2.outputs).toEqual({ body: 'plain words', ct: 'text/plain' });
    tmp.cleanup();
  });

  it('fails on a non-2xx status unless it is expected, logging the body either way', async () => {
    const tmp = tempDir();
    const rec = recordHooks();
    const r = await executor(tmp.dir).run(makeKindAssign('http', { url: `${base}/missing` }), rec.hooks).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toBe('HTTP_STATUS: expected 2xx, got 404 Not Found');
    expect(rec.out.STDOUT).toBe('no such thing');
    const ok = await executor(tmp.dir).run(
      makeKindAssign(
        'http',
        { url: `${base}/missing`, expectStatus: [404, 410] },
        { outputs: [{ name: 's', source: 'status', path: '' }] },
      ),
    ).done;
    expect(ok.outcome).toBe('SUCCEEDED');
    expect(ok.outputs.s).toBe('404');
    tmp.cleanup();
  });

  it('cancel aborts a request in flight; the server sees the connection close', async () => {
    const tmp = tempDir();
    const before = abortedRequests;
    const run = executor(tmp.dir).run(makeKindAssign('http', { url: `${base}/hang` }));
    await waitFor(() => seen.some((s) => s.url === '/hang'));
    run.cancel('no longer needed');
    const r = await run.done;
    expect(r.outcome).toBe('CANCELLED');
    expect(r.error).toBe('cancelled: no longer needed');
    await waitFor(() => abortedRequests > before);
    tmp.cleanup();
  });

  it('times out by args.timeout (FAILED, HTTP_TIMEOUT) and by the task timeout (TIMED_OUT)', async () => {
    const tmp = tempDir();
    const r = await executor(tmp.dir).run(makeKindAssign('http', { url: `${base}/hang`, timeout: '200ms' })).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toBe('HTTP_TIMEOUT: no complete response within 200 ms (args.timeout)');
    const t = await executor(tmp.dir).run(makeKindAssign('http', { url: `${base}/hang` }, { timeoutMs: 200 })).done;
    expect(t.outcome).toBe('TIMED_OUT');
    tmp.cleanup();
  });

  it('reports connection failures with their cause', async () => {
    const tmp = tempDir();
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await executor(tmp.dir).run(makeKindAssign('http', { url: `http://127.0.0.1:${deadPort}/` })).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toMatch(/^HTTP_REQUEST_FAILED: fetch failed \(ECONNREFUSED/);
    tmp.cleanup();
  });

  it('follows redirects, checking each host against the allowlist', async () => {
    const tmp = tempDir();
    const allowed = executor(tmp.dir, ['127.0.0.1']);
    const follow = await allowed.run(
      makeKindAssign(
        'http',
        { url: `${base}/redirect?to=/json` },
        { outputs: [{ name: 'n', source: 'json', path: 'total' }] },
      ),
    ).done;
    expect(follow.outcome).toBe('SUCCEEDED');
    expect(follow.outputs.n).toBe('1');
    const away = makeKindAssign('http', {
      url: `${base}/redirect?to=${encodeURIComponent(`http://localhost:${port}/json`)}`,
    });
    expect(allowed.check(away)).toBeUndefined();
    const r = await allowed.run(away).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toMatch(
      /^COMMAND_NOT_ALLOWED: redirect to http host "localhost:\d+" is not allowed on this device/,
    );
    tmp.cleanup();
  });

  it("sends none of the caller's headers across origins on a redirect (any may be a credential), all within one", async () => {
    const tmp = tempDir();
    const ex = executor(tmp.dir);
    const headers = { 'x-token': 'secret-token', authorization: 'Bearer s3cret' };
    const output = [{ name: 't', source: 'json' as const, path: 'token' }];
    const same = await ex.run(
      makeKindAssign('http', { url: `${base}/redirect?to=/echo`, headers }, { outputs: output }),
    ).done;
    expect(same.outputs.t).toBe('secret-token');
    const cross = await ex.run(
      makeKindAssign(
        'http',
        { url: `${base}/redirect?to=${encodeURIComponent(`http://localhost:${port}/echo`)}`, headers },
        { outputs: output },
      ),
    ).done;
    expect(cross.outcome).toBe('SUCCEEDED');
    expect(cross.outputs.t).toBe('');
    const last = seen.at(-1)!;
    expect(last.headers['x-token']).toBeUndefined();
    expect(last.headers.authorization).toBeUndefined();
    tmp.cleanup();
  });

  it('refuses hosts outside the allowlist and bad args before running', () => {
    const tmp = tempDir();
    const ex = executor(tmp.dir, ['*.example.com', 'localhost:8080']);
    expect(ex.check(makeKindAssign('http', { url: 'https://api.example.com/x' }))).toBeUndefined();
    expect(ex.check(makeKindAssign('http', { url: 'http://localhost:8080/x' }))).toBeUndefined();
    const refused = ex.check(makeKindAssign('http', { url: 'http://evil.test/steal' }));
    expect(refused?.code).toBe('COMMAND_NOT_ALLOWED');
    expect(refused?.message).toContain('http host "evil.test" is not allowed on this device');
    expect(refused?.message).toContain('add one to allow.http in the agent config or pass --allow-http');
    const bad = (args: unknown) => executor(tmp.dir).check(makeKindAssign('http', args));
    expect(bad({ url: 'ftp://x/y' })).toEqual({
      code: 'BAD_ASSIGN',
      message: 'http: args.url must be http:// or https://, not ftp:',
    });
    expect(bad({ url: 'http://x', method: 'FETCH' })?.message).toContain('args.method must be one of GET, HEAD');
    expect(bad({ url: 'http://x', body: 'b' })?.message).toBe('http: args.body is not allowed with GET');
    expect(bad({ url: 'http://x', expectStatus: 99 })?.message).toContain('args.expectStatus');
    expect(bad({ url: 'http://x', bogus: 1 })?.message).toContain('unknown field args.bogus');
    expect(bad(undefined)?.message).toBe("http: executor 'http' needs args");
    tmp.cleanup();
  });

  it('caps what is kept for outputs: an oversized body fails a stdout output instead of cutting it', async () => {
    const tmp = tempDir();
    const ex = executor(tmp.dir, undefined, { maxCaptureBytes: 1000, maxForwardBytes: 100 });
    const rec = recordHooks();
    const r = await ex.run(
      makeKindAssign('http', { url: `${base}/big` }, { outputs: [{ name: 'b', source: 'stdout', path: '' }] }),
      rec.hooks,
    ).done;
    expect(r.outcome).toBe('FAILED');
    expect(r.error).toContain("output 'b': stdout exceeds the 1000-byte capture limit");
    expect(rec.out.STDOUT).toHaveLength(100);
    expect(rec.out.SYSTEM).toContain('output truncated: 100 bytes forwarded');
    expect(r.stdoutBytes).toBe(5000);
    tmp.cleanup();
  });
});
