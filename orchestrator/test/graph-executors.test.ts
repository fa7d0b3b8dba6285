// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the template syntax under test
// Executor kinds in the graph format: each kind's args are checked at
// submit (JSON Schema, then values), with GRAPH_SCHEMA and a JSON pointer.
import { describe, expect, it } from 'vitest';
import { buildAssign } from '../src/engine/assign-message.js';
import { GraphError, normaliseGraph, parseGraph } from '../src/graph/index.js';
import { applyEdit, createConstellation } from '../src/model/index.js';

function issuesOf(doc: unknown): Array<{ code: string; path: string; message: string }> {
  try {
    normaliseGraph(doc);
  } catch (e) {
    if (e instanceof GraphError) return e.issues.map(({ code, path, message }) => ({ code, path, message }));
    throw e;
  }
  return [];
}

const one = (task: unknown) => ({ name: 'g', tasks: { x: task } });

describe('executor args in graphs', () => {
  it('accepts an example of each kind and keeps its args for the Assign', () => {
    const spec = parseGraph(`name: kinds
inputs: { base: "http://127.0.0.1:9" }
tasks:
  call:
    executor:
      kind: http
      args:
        method: POST
        url: "\${{ inputs.base }}/items"
        headers: { content-type: application/json, x-n: 1 }
        body: { name: widget }
        timeout: 10s
        expectStatus: [200, 201]
    outputs:
      code: status
      id: { json: id }
      etag: { header: ETag }
  tool:
    executor:
      kind: mcp
      args:
        server: { command: node, args: [server.js, --stdio], env: { MODE: test } }
        tool: add
        arguments: { a: 2, b: 3 }
    outputs: { sum: { json: sum } }
  phone:
    executor:
      kind: adb
      args:
        serial: emulator-5554
        push: { local: app.apk, remote: /data/local/tmp/app.apk }
        shell: pm install -r /data/local/tmp/app.apk
        pull: [{ remote: /sdcard/log.txt, local: log.txt }]
    outputs: { log: { file: log.txt } }
`);
    const c = createConstellation(spec, { id: 'c1', owner: 'o', now: 0 });
    const call = buildAssign(c, c.tasks.call!, 1, 1000);
    expect(call.executor.kind).toBe('http');
    expect(JSON.parse(call.executor.argsJson)).toMatchObject({
      method: 'POST',
      url: 'http://127.0.0.1:9/items',
      body: { name: 'widget' },
    });
    expect(call.outputs).toEqual([
      { name: 'code', source: 'status', path: '' },
      { name: 'id', source: 'json', path: 'id' },
      { name: 'etag', source: 'header', path: 'ETag' },
    ]);
    expect(JSON.parse(buildAssign(c, c.tasks.tool!, 1, 1000).executor.argsJson).server.args).toEqual([
      'server.js',
      '--stdio',
    ]);
    expect(JSON.parse(buildAssign(c, c.tasks.phone!, 1, 1000).executor.argsJson).push.remote).toBe(
      '/data/local/tmp/app.apk',
    );
  });

  it('reports bad http args at their path', () => {
    expect(issuesOf(one({ executor: { kind: 'http' } }))).toEqual([
      { code: 'GRAPH_SCHEMA', path: '/tasks/x/executor', message: 'missing required field "args"' },
    ]);
    expect(issuesOf(one({ executor: { kind: 'http', args: {} } }))).toEqual([
      { code: 'GRAPH_SCHEMA', path: '/tasks/x/executor/args', message: 'missing required field "url"' },
    ]);
    expect(issuesOf(one({ executor: { kind: 'http', args: { url: 'ftp://h/x' } } }))).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args/url',
        message: 'URL must be http:// or https://, not ftp:',
      },
    ]);
    expect(issuesOf(one({ executor: { kind: 'http', args: { url: 'not a url' } } }))[0]).toMatchObject({
      path: '/tasks/x/executor/args/url',
      message: expect.stringContaining('invalid URL "not a url"'),
    });
    const method = issuesOf(one({ executor: { kind: 'http', args: { url: 'http://h', method: 'FETCH' } } }));
    expect(method).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args/method',
        message: expect.stringContaining('must be one of "GET"'),
      },
    ]);
    expect(issuesOf(one({ executor: { kind: 'http', args: { url: 'http://h', retries: 3 } } }))).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args/retries',
        message: 'unknown field "retries" (allowed: method, url, headers, body, timeout, expectStatus)',
      },
    ]);
    expect(issuesOf(one({ executor: { kind: 'http', args: { url: 'http://h', body: 'x' } } }))[0]).toMatchObject({
      path: '/tasks/x/executor/args/body',
    });
    expect(issuesOf(one({ executor: { kind: 'http', args: { url: 'http://h', timeout: 'soon' } } }))[0]).toMatchObject({
      path: '/tasks/x/executor/args/timeout',
      message: expect.stringContaining('invalid duration "soon"'),
    });
    expect(issuesOf(one({ executor: { kind: 'http', args: { url: 'http://h', expectStatus: 42 } } }))[0]).toMatchObject(
      {
        path: '/tasks/x/executor/args/expectStatus',
      },
    );
    expect(issuesOf(one({ executor: { kind: 'http', command: 'curl x', args: { url: 'http://h' } } }))).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/command',
        message: 'command is only for shell executors; the http executor takes args',
      },
    ]);
    // A templated URL is checked by the agent once resolved.
    expect(
      issuesOf({
        name: 'g',
        inputs: { u: 'x' },
        tasks: { x: { executor: { kind: 'http', args: { url: '${{ inputs.u }}' } } } },
      }),
    ).toEqual([]);
  });

  it('reports bad mcp and adb args at their path', () => {
    expect(issuesOf(one({ executor: { kind: 'mcp', args: { server: { command: 'node' } } } }))).toEqual([
      { code: 'GRAPH_SCHEMA', path: '/tasks/x/executor/args', message: 'missing required field "tool"' },
    ]);
    expect(issuesOf(one({ executor: { kind: 'mcp', args: { server: { args: ['s.js'] }, tool: 't' } } }))).toEqual([
      { code: 'GRAPH_SCHEMA', path: '/tasks/x/executor/args/server', message: 'missing required field "command"' },
    ]);
    expect(issuesOf(one({ executor: { kind: 'mcp', args: { server: 'node s.js', tool: 't' } } }))[0]).toMatchObject({
      path: '/tasks/x/executor/args/server',
      message: 'must be object, not string "node s.js"',
    });
    expect(issuesOf(one({ executor: { kind: 'adb', args: { serial: 'x' } } }))).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args',
        message: 'an adb executor needs at least one of push, shell, pull',
      },
    ]);
    expect(issuesOf(one({ executor: { kind: 'adb', args: { push: [{ local: 'a' }] } } }))).toEqual([
      { code: 'GRAPH_SCHEMA', path: '/tasks/x/executor/args/push/0', message: 'missing required field "remote"' },
    ]);
  });

  it('allows status and header outputs only on http tasks', () => {
    expect(issuesOf(one({ run: 'echo', outputs: { s: 'status', h: { header: 'etag' } } }))).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/outputs/s',
        message: 'output s: status and header outputs come from http tasks, not shell',
      },
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/outputs/h',
        message: 'output h: status and header outputs come from http tasks, not shell',
      },
    ]);
  });

  it('refuses file outputs and adb local paths outside the work dir (GRAPH_SCHEMA at the path)', () => {
    expect(
      issuesOf(
        one({
          run: 'true',
          outputs: {
            a: { file: '/var/lib/orrery/credentials.json' },
            b: { file: 'x/../../etc/shadow' },
            c: { file: 'out/ok.txt' },
          },
        }),
      ),
    ).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/outputs/a/file',
        message: 'output a: file "/var/lib/orrery/credentials.json" must be relative to the work dir',
      },
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/outputs/b/file',
        message: 'output b: file "x/../../etc/shadow" must stay inside the work dir (no ..)',
      },
    ]);
    const adb = {
      kind: 'adb',
      args: {
        push: { local: '/etc/shadow', remote: '/sdcard/x' },
        pull: [{ remote: '/sdcard/y', local: 'results/../../../etc/ld.so.preload' }],
      },
    };
    expect(issuesOf(one({ executor: adb }))).toEqual([
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args/push/local',
        message: 'adb push local path "/etc/shadow" must be relative to the work dir',
      },
      {
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args/pull/0/local',
        message: 'adb pull local path "results/../../../etc/ld.so.preload" must stay inside the work dir (no ..)',
      },
    ]);
  });

  it('gives the line of a bad arg in YAML', () => {
    try {
      parseGraph(
        'name: g\ntasks:\n  x:\n    executor:\n      kind: http\n      args:\n        url: http://h\n        bogus: 1\n',
      );
      expect.unreachable();
    } catch (e) {
      expect((e as GraphError).issues[0]).toMatchObject({
        code: 'GRAPH_SCHEMA',
        path: '/tasks/x/executor/args/bogus',
        line: 8,
      });
    }
  });

  it('checks executor args of tasks added or updated by an edit (EDIT_INVALID)', () => {
    const c = createConstellation(normaliseGraph({ name: 'e', tasks: { a: { run: 'true' } } }), {
      id: 'c',
      owner: 'o',
      now: 0,
    });
    const task = (executor: unknown, outputs: unknown = {}) => ({
      id: 'b',
      name: 'b',
      target: {},
      executor,
      inputs: {},
      outputs,
      priority: 0,
      retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 1000, multiplier: 2 },
    });
    const add = (t: unknown) =>
      applyEdit(c, { revision: c.revision, operations: [{ op: 'add_task', task: t } as never] }, 1);
    expect(add(task({ kind: 'http', args: { url: 'gopher://x' } }))).toMatchObject({
      ok: false,
      error: {
        code: 'EDIT_INVALID',
        message: 'task b: /executor/args/url: URL must be http:// or https://, not gopher:',
      },
    });
    expect(add(task({ kind: 'mcp', args: { tool: 't' } }))).toMatchObject({
      ok: false,
      error: { message: 'task b: /executor/args: missing required field "server"' },
    });
    expect(add(task({ kind: 'adb' }))).toMatchObject({
      ok: false,
      error: { message: 'task b: /executor: the adb executor needs args' },
    });
    expect(add(task({ kind: 'shell', command: 'true' }, { s: { from: 'status' } }))).toMatchObject({
      ok: false,
      error: { message: 'task b: /outputs/s: output s: status and header outputs come from http tasks, not shell' },
    });
    expect(add(task({ kind: 'http', args: { url: 'http://ok.test/' } }, { s: { from: 'status' } }))).toMatchObject({
      ok: true,
    });
  });
});
