// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the template syntax under test
import { describe, expect, it } from 'vitest';
import { GraphError, type GraphIssue, normaliseGraph, parseGraph } from '../src/graph/index.js';

function issues(text: string, opts: { format?: 'yaml' | 'json'; filename?: string } = {}): GraphIssue[] {
  try {
    parseGraph(text, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(GraphError);
    return (e as GraphError).issues;
  }
  throw new Error('expected a GraphError');
}

const RELEASE = `name: release-check
description: optional
inputs: { version: "1.2.3" }
defaults: { target: {labels: [server]}, retries: 1, timeout: 5m }
tasks:
  build:
    name: Build it
    target: { labels: [server] }
    run: echo build \${{ inputs.version }}
    env: { FOO: bar, N: 3 }
    cwd: /tmp
    outputs: { artifact: stdout, report: { file: out/report.txt }, score: { json: metrics.score } }
    retries: { max: 2, backoff: 1s, maxBackoff: 30s }
    timeout: 10m
    priority: 5
  smoke:
    needs: [build]
    run: echo smoke \${{ tasks.build.outputs.artifact }}
  gate:
    needs: { build: { if: "tasks.build.outputs.score >= 0.9" }, smoke: success }
    executor: { kind: shell, command: echo gate }
  cleanup:
    needs: { smoke: completion, gate: failure }
    run: echo cleanup
`;

describe('parseGraph: valid documents', () => {
  it('normalises the release example', () => {
    const g = parseGraph(RELEASE);
    expect(g.name).toBe('release-check');
    expect(g.description).toBe('optional');
    expect(g.inputs).toEqual({ version: '1.2.3' });
    const build = g.tasks.find((t) => t.id === 'build')!;
    expect(build).toEqual({
      id: 'build',
      name: 'Build it',
      target: { labels: ['server'] },
      executor: {
        kind: 'shell',
        command: 'echo build ${{ inputs.version }}',
        env: { FOO: 'bar', N: '3' },
        cwd: '/tmp',
      },
      inputs: {},
      outputs: {
        artifact: { from: 'stdout' },
        report: { from: 'file', path: 'out/report.txt' },
        score: { from: 'json', path: 'metrics.score' },
      },
      priority: 5,
      timeoutMs: 600_000,
      retry: { max: 2, initialBackoffMs: 1000, maxBackoffMs: 30_000, multiplier: 2 },
    });
    const smoke = g.tasks.find((t) => t.id === 'smoke')!;
    expect(smoke.name).toBe('smoke');
    expect(smoke.target).toEqual({ labels: ['server'] });
    expect(smoke.retry.max).toBe(1);
    expect(smoke.timeoutMs).toBe(300_000);
    expect(g.tasks.find((t) => t.id === 'gate')!.executor).toEqual({ kind: 'shell', command: 'echo gate' });
    expect(g.dependencies).toEqual(
      expect.arrayContaining([
        { from: 'build', to: 'smoke', kind: 'success' },
        { from: 'build', to: 'gate', kind: 'condition', condition: 'tasks.build.outputs.score >= 0.9' },
        { from: 'smoke', to: 'gate', kind: 'success' },
        { from: 'smoke', to: 'cleanup', kind: 'completion' },
        { from: 'gate', to: 'cleanup', kind: 'failure' },
      ]),
    );
    expect(g.dependencies).toHaveLength(5);
  });

  it('accepts JSON text and already-parsed objects identically', () => {
    const doc = {
      name: 'j',
      tasks: {
        a: { run: 'echo a', outputs: { x: 'stdout' } },
        b: { needs: ['a'], run: 'echo ${{ tasks.a.outputs.x }}' },
      },
    };
    const fromText = parseGraph(JSON.stringify(doc, null, 2));
    expect(fromText).toEqual(normaliseGraph(doc));
    expect(parseGraph(JSON.stringify(doc), { filename: 'g.json' })).toEqual(fromText);
  });

  it('applies defaults for name, target, retry and priority', () => {
    const g = parseGraph('name: d\ntasks:\n  only:\n    run: "true"\n');
    expect(g.tasks[0]).toMatchObject({
      name: 'only',
      target: {},
      priority: 0,
      retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60_000, multiplier: 2 },
    });
    expect(g.tasks[0]!.timeoutMs).toBeUndefined();
  });

  it('allows transitive upstream references and status references', () => {
    const g = parseGraph(`name: t
tasks:
  a: { run: echo a, outputs: { v: stdout } }
  b: { needs: [a], run: echo b }
  c: { needs: [b], run: "echo \${{ tasks.a.outputs.v }} \${{ tasks.b.status }}" }
`);
    expect(g.tasks).toHaveLength(3);
  });
});

describe('parseGraph: errors with codes, paths and lines', () => {
  it('GRAPH_PARSE_ERROR with line and column (YAML)', () => {
    const [i] = issues('name: x\ntasks:\n  a: [1\n  b: 2\n');
    expect(i).toMatchObject({ code: 'GRAPH_PARSE_ERROR' });
    expect(i!.line).toBeGreaterThanOrEqual(3);
    expect(i!.column).toBeGreaterThanOrEqual(1);
  });

  it('GRAPH_PARSE_ERROR with line and column (JSON)', () => {
    const [i] = issues('{\n  "name": "x",\n  "tasks": {,}\n}', { format: 'json' });
    expect(i).toMatchObject({ code: 'GRAPH_PARSE_ERROR', line: 3 });
    expect(i!.column).toBeGreaterThan(1);
  });

  it('GRAPH_SCHEMA for an unknown field, pointing at the key line', () => {
    const list = issues('name: x\ntasks:\n  a:\n    run: echo\n    retires: 3\n');
    expect(list).toEqual([
      expect.objectContaining({ code: 'GRAPH_SCHEMA', path: '/tasks/a/retires', line: 5, column: 5 }),
    ]);
    expect(list[0]!.message).toContain('unknown field "retires"');
  });

  it('GRAPH_SCHEMA for a wrong type, with path and line', () => {
    const list = issues('name: x\ntasks:\n  a:\n    run: echo\n    priority: high\n');
    expect(list).toEqual([expect.objectContaining({ code: 'GRAPH_SCHEMA', path: '/tasks/a/priority', line: 5 })]);
    expect(list[0]!.message).toMatch(/integer/);
  });

  it('GRAPH_SCHEMA for a bad duration and a bad nested retry field', () => {
    const list = issues(
      'name: x\ntasks:\n  a:\n    run: echo\n    timeout: 5 minutes\n    retries: { max: 1, backof: 1s }\n',
    );
    expect(list.map((i) => [i.code, i.path, i.line])).toEqual([
      ['GRAPH_SCHEMA', '/tasks/a/retries/backof', 6],
      ['GRAPH_SCHEMA', '/tasks/a/timeout', 5],
    ]);
    expect(list[1]!.message).toContain('500ms');
  });

  it('GRAPH_SCHEMA for an invalid task id', () => {
    const list = issues('name: x\ntasks:\n  "bad id":\n    run: echo\n');
    expect(list[0]).toMatchObject({ code: 'GRAPH_SCHEMA', path: '/tasks/bad id', line: 3 });
  });

  it('GRAPH_SCHEMA when a task has neither run nor executor, or both', () => {
    expect(issues('name: x\ntasks:\n  a: { name: A }\n')[0]).toMatchObject({
      code: 'GRAPH_SCHEMA',
      path: '/tasks/a',
      line: 3,
    });
    expect(issues('name: x\ntasks:\n  a: { run: x, executor: { kind: shell, command: y } }\n')[0]).toMatchObject({
      code: 'GRAPH_SCHEMA',
      path: '/tasks/a',
    });
  });

  it('GRAPH_EMPTY', () => {
    expect(issues('name: x\ntasks: {}\n')[0]).toMatchObject({ code: 'GRAPH_EMPTY', path: '/tasks', line: 2 });
  });

  it('GRAPH_DUPLICATE_TASK with the line of the second key (YAML and JSON)', () => {
    const y = issues('name: x\ntasks:\n  a: { run: echo }\n  a: { run: echo 2 }\n');
    expect(y[0]).toMatchObject({ code: 'GRAPH_DUPLICATE_TASK', line: 4, column: 3 });
    expect(y[0]!.message).toContain('"a"');
    const j = issues('{"name":"x",\n"tasks":{\n"a":{"run":"1"},\n"a":{"run":"2"}}}');
    expect(j[0]).toMatchObject({ code: 'GRAPH_DUPLICATE_TASK', line: 4 });
  });

  it('JSON text: schema errors, other duplicate keys and escaped keys get lines too', () => {
    const text =
      '{\n  "name": "x",\n  "tasks": {\n    "a\\u0062": { "run": "echo", "priority": "high" },\n    "c": { "run": "echo", "env": { "A": "1", "A": "2" } }\n  }\n}';
    const dup = issues(text);
    expect(dup).toEqual([expect.objectContaining({ code: 'GRAPH_PARSE_ERROR', path: '/tasks/c/env/A', line: 5 })]);
    const typed = issues(text.replace('"A": "1", ', ''));
    expect(typed).toEqual([expect.objectContaining({ code: 'GRAPH_SCHEMA', path: '/tasks/ab/priority', line: 4 })]);
    const unknown = issues('{"name":"x",\n"tasks":{"a":{"run":"echo",\n   "bogus":1}}}');
    expect(unknown[0]).toMatchObject({ path: '/tasks/a/bogus', line: 3, column: 4 });
  });

  it('the JSON duplicate scan copes with escapes inside strings', () => {
    const text = JSON.stringify({
      name: 'q"\\"',
      tasks: { a: { run: 'echo "}\\" {"', env: { 'K"1': 'v\\', K: '\\"' } } },
    });
    expect(parseGraph(text).tasks[0]!.executor.env).toEqual({ 'K"1': 'v\\', K: '\\"' });
    const dup = text.replace('"K":', '"K\\"1":');
    expect(issues(dup)[0]).toMatchObject({ code: 'GRAPH_PARSE_ERROR', path: '/tasks/a/env/K"1', line: 1 });
  });

  it('GRAPH_DANGLING_DEPENDENCY (list and map forms)', () => {
    const list = issues('name: x\ntasks:\n  a: { run: echo }\n  b:\n    run: echo\n    needs: [a, nope]\n');
    expect(list[0]).toMatchObject({ code: 'GRAPH_DANGLING_DEPENDENCY', path: '/tasks/b/needs/1', line: 6 });
    const map = issues('name: x\ntasks:\n  b:\n    run: echo\n    needs:\n      ghost: completion\n');
    expect(map[0]).toMatchObject({ code: 'GRAPH_DANGLING_DEPENDENCY', path: '/tasks/b/needs/ghost', line: 6 });
  });

  it('GRAPH_CYCLE names the cycle', () => {
    const list = issues(`name: x
tasks:
  a: { run: echo, needs: [c] }
  b: { run: echo, needs: [a] }
  c: { run: echo, needs: [b] }
  d: { run: echo, needs: [d] }
`);
    const cycle = list.find((i) => i.message.startsWith('dependency cycle'))!;
    expect(cycle.code).toBe('GRAPH_CYCLE');
    expect(cycle.message).toBe('dependency cycle: a -> b -> c -> a');
    expect(cycle.path).toBe('/tasks/a/needs/0');
    expect(cycle.line).toBe(3);
    expect(list.find((i) => i.path === '/tasks/d/needs/0')).toMatchObject({ code: 'GRAPH_CYCLE', line: 6 });
  });

  it('GRAPH_UNKNOWN_REFERENCE for missing task, output, input and non-upstream tasks', () => {
    const list = issues(`name: x
inputs: { version: "1" }
tasks:
  a: { run: echo, outputs: { v: stdout } }
  b: { run: echo }
  c:
    needs: [b]
    run: echo \${{ tasks.a.outputs.v }}
    env:
      X: \${{ tasks.b.outputs.nothing }}
      Y: \${{ inputs.nope }}
      Z: \${{ tasks.ghost.status }}
      W: \${{ something.else }}
`);
    const byPath = Object.fromEntries(list.map((i) => [i.path, i]));
    expect(list.every((i) => i.code === 'GRAPH_UNKNOWN_REFERENCE')).toBe(true);
    expect(byPath['/tasks/c/run']).toMatchObject({ line: 8 });
    expect(byPath['/tasks/c/run']!.message).toContain('not upstream');
    expect(byPath['/tasks/c/env/X']!.message).toContain('declares no output "nothing"');
    expect(byPath['/tasks/c/env/X']!.line).toBe(10);
    expect(byPath['/tasks/c/env/Y']!.message).toContain('no input "nope"');
    expect(byPath['/tasks/c/env/Z']!.message).toContain('no task "ghost"');
    expect(byPath['/tasks/c/env/W']!.message).toContain('unsupported expression');
  });

  it('GRAPH_INVALID_CONDITION with the path of the if', () => {
    const list = issues(
      'name: x\ntasks:\n  a: { run: echo }\n  b:\n    run: echo\n    needs:\n      a: { if: "tasks.a.status ==" }\n',
    );
    expect(list[0]).toMatchObject({ code: 'GRAPH_INVALID_CONDITION', path: '/tasks/b/needs/a/if', line: 7 });
  });

  it('GRAPH_UNKNOWN_REFERENCE inside a condition', () => {
    const list = issues(
      'name: x\ntasks:\n  a: { run: echo }\n  z: { run: echo }\n  b:\n    run: echo\n    needs:\n      a: { if: "tasks.z.status == \'succeeded\'" }\n',
    );
    expect(list[0]).toMatchObject({ code: 'GRAPH_UNKNOWN_REFERENCE', path: '/tasks/b/needs/a/if' });
  });

  it('normaliseGraph reports issues without lines', () => {
    try {
      normaliseGraph({ name: 'x', tasks: { a: { run: 'echo', extra: 1 } } });
      expect.unreachable();
    } catch (e) {
      expect((e as GraphError).code).toBe('GRAPH_SCHEMA');
      expect((e as GraphError).issues[0]).toEqual({
        code: 'GRAPH_SCHEMA',
        path: '/tasks/a/extra',
        message: expect.any(String),
      });
    }
  });

  it('the error message carries filename, line and path', () => {
    try {
      parseGraph('name: x\ntasks:\n  a: { run: echo, bogus: 1 }\n', { filename: 'g.yaml' });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(/^g\.yaml:3:\d+: unknown field "bogus".* at \/tasks\/a\/bogus$/);
    }
  });
});
