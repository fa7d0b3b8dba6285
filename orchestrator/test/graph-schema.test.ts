// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the template syntax under test
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type GraphError, graphSchema, normaliseGraph, parseGraph, schemaIssues } from '../src/graph/index.js';
import { applyEdit, createConstellation, resolveTaskForDispatch, TemplateError } from '../src/model/index.js';

type Schema = Record<string, unknown>;

/** Every property of every object schema, with its JSON path in the schema. */
function properties(schema: Schema, path: string, out: Array<[string, Schema]>): void {
  const props = schema.properties as Record<string, Schema> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) {
    out.push([`${path}/properties/${k}`, v]);
    properties(v, `${path}/properties/${k}`, out);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    (schema[key] as Schema[] | undefined)?.forEach((s, i) => {
      properties(s, `${path}/${key}/${i}`, out);
    });
  }
}

describe('graph JSON Schema', () => {
  const schema = graphSchema();

  it('is the published file', () => {
    const file = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'schema', 'graph.schema.json'), 'utf8'));
    expect(schema).toEqual(file);
    expect(file.$schema).toBe('http://json-schema.org/draft-07/schema#');
  });

  it('describes every field, so editors can show help', () => {
    const all: Array<[string, Schema]> = [];
    properties(schema, '#', all);
    const defs = schema.definitions as Record<string, Schema>;
    for (const [name, def] of Object.entries(defs)) {
      properties(def, `#/definitions/${name}`, all);
      expect(def.description, `#/definitions/${name}`).toEqual(expect.any(String));
    }
    const undocumented = all
      .filter(([, s]) => {
        const ref = s.$ref as string | undefined;
        const target = ref ? defs[ref.split('/').pop()!] : undefined;
        return typeof s.description !== 'string' && typeof target?.description !== 'string';
      })
      .map(([p]) => p);
    expect(undocumented.filter((p) => !p.endsWith('/description'))).toEqual([]);
  });

  it('rejects __proto__ and other reserved names', () => {
    const doc = JSON.parse('{"name":"x","tasks":{"__proto__":{"run":"x"}}}');
    expect(schemaIssues(doc)[0]).toMatchObject({ code: 'GRAPH_SCHEMA', path: '/tasks/__proto__' });
  });
});

describe('normalisation details', () => {
  it('merges env from defaults, task and executor; keeps args; stringifies scalars', () => {
    const g = parseGraph(`name: env
inputs: { n: 3, flag: true }
defaults: { env: { A: "1", B: "1" }, cwd: /srv }
tasks:
  call:
    env: { B: 2, C: 2 }
    executor:
      kind: http
      env: { C: "3" }
      args: { url: "https://example.test/\${{ inputs.n }}", expectStatus: [200, 201] }
`);
    expect(g.inputs).toEqual({ n: '3', flag: 'true' });
    expect(g.tasks[0]!.executor).toEqual({
      kind: 'http',
      env: { A: '1', B: '2', C: '3' },
      cwd: '/srv',
      args: { url: 'https://example.test/${{ inputs.n }}', expectStatus: [200, 201] },
    });
  });

  it('checks references inside executor args and defaults', () => {
    try {
      parseGraph(`name: bad
defaults: { env: { X: "\${{ inputs.missing }}" } }
tasks:
  call:
    executor: { kind: http, args: { method: POST, url: "http://h", body: { text: "\${{ tasks.nope.outputs.x }}" } } }
`);
      expect.unreachable();
    } catch (e) {
      const issues = (e as GraphError).issues;
      expect(issues.map((i) => [i.code, i.path, i.line])).toEqual([
        ['GRAPH_UNKNOWN_REFERENCE', '/tasks/call/executor/args/body/text', 5],
        ['GRAPH_UNKNOWN_REFERENCE', '/defaults/env/X', 2],
      ]);
    }
  });

  it('a task named like an Object.prototype member is an ordinary task', () => {
    const c = createConstellation(
      normaliseGraph({
        name: 'p',
        tasks: { constructor: { run: 'echo' }, toString: { run: 'echo', needs: ['constructor'] } },
      }),
      {
        id: 'p',
        owner: 'o',
        now: 0,
      },
    );
    expect(c.tasks.constructor?.status).toBe('ready');
    const r = applyEdit(c, { revision: 1, operations: [{ op: 'remove_task', taskId: 'hasOwnProperty' }] }, 1);
    expect(!r.ok && r.error.code).toBe('EDIT_UNKNOWN_TASK');
  });

  it('dispatch resolves values of upstreams that did not succeed to "" unless asked to fail', () => {
    const c = createConstellation(
      normaliseGraph({
        name: 'd',
        tasks: {
          a: { run: 'false', outputs: { v: 'stdout' } },
          b: { needs: { a: 'completion' }, run: 'echo [${{ tasks.a.outputs.v }}]' },
        },
      }),
      { id: 'd', owner: 'o', now: 0 },
    );
    expect(resolveTaskForDispatch(c, 'b').executor.command).toBe('echo []');
    expect(() => resolveTaskForDispatch(c, 'b', { missing: 'error' })).toThrow(TemplateError);
  });
});
