// The published JSON Schema (orchestrator/schema/graph.schema.json), compiled
// once with ajv, and ajv's errors turned into readable GraphIssues.

import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type GraphIssue, toPointer, fromPointer } from './graph-error.js';

let validator: ValidateFunction | undefined;
let schemaObject: Record<string, unknown> | undefined;

/** The graph JSON Schema (read from the package's schema/ folder once). */
export function graphSchema(): Record<string, unknown> {
  if (!schemaObject) {
    const url = new URL('../../schema/graph.schema.json', import.meta.url);
    schemaObject = JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
  }
  return schemaObject;
}

let ajvInstance: Ajv | undefined;
const ajv = (): Ajv => {
  ajvInstance ??= new Ajv({ allErrors: true, strict: true, verbose: true, allowUnionTypes: true });
  return ajvInstance;
};

function compiled(): ValidateFunction {
  validator ??= ajv().compile(graphSchema());
  return validator;
}

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function messageFor(e: ErrorObject): { path: string; message: string } {
  const at = e.instancePath;
  if (e.propertyName !== undefined && e.keyword !== 'propertyNames') {
    const desc = (e.parentSchema as { description?: string } | undefined)?.description;
    return {
      path: `${at}/${escapePointer(e.propertyName)}`,
      message: `invalid name "${e.propertyName}": expected ${desc ?? 'a valid name'}`,
    };
  }
  const desc = (e.parentSchema as { description?: string } | undefined)?.description;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      return {
        path: `${at}/${escapePointer(extra)}`,
        message: `unknown field "${extra}"${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ''}`,
      };
    }
    case 'required':
      return {
        path: at,
        message: `missing required field "${(e.params as { missingProperty: string }).missingProperty}"`,
      };
    case 'type':
      return {
        path: at,
        message: `must be ${(e.params as { type: string | string[] }).type}, not ${describeValue(e.data)}`,
      };
    case 'pattern':
      return { path: at, message: `invalid value ${JSON.stringify(e.data)}${desc ? `: expected ${desc}` : ''}` };
    case 'enum':
      return {
        path: at,
        message: `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}, not ${describeValue(e.data)}`,
      };
    default:
      return { path: at, message: e.message ?? 'invalid' };
  }
}

/**
 * Collapse anyOf noise: when some branch matched the value's type, report
 * that branch's own problems; otherwise one message built from the anyOf's
 * description.
 */
function simplify(errors: ErrorObject[]): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  let rest = errors;
  const keep: ErrorObject[] = [];
  for (const a of anyOfs) {
    const prefix = `${a.schemaPath}/`;
    const branch = rest.filter((e) => e.schemaPath.startsWith(prefix));
    rest = rest.filter((e) => e !== a && !e.schemaPath.startsWith(prefix));
    const specific = branch.filter(
      (e) => !(e.instancePath === a.instancePath && (e.keyword === 'type' || e.keyword === 'enum')),
    );
    if (specific.length > 0) keep.push(...specific);
    else keep.push(a);
  }
  return [...rest, ...keep];
}

/** Schema problems of a parsed graph document (empty when it conforms). */
export function schemaIssues(doc: unknown): GraphIssue[] {
  const validate = compiled();
  if (validate(doc)) return [];
  return toIssues(validate.errors ?? [], '');
}

const argsValidators = new Map<string, ValidateFunction>();

/**
 * Schema problems of one executor kind's args (definitions `<kind>Args`:
 * http, mcp, adb), with paths under `at`; [] for kinds without a schema.
 * Used for task specs that arrive through edits, already normalised.
 */
export function executorArgsSchemaIssues(kind: string, args: unknown, at: string): GraphIssue[] {
  const definitions = graphSchema().definitions as Record<string, unknown>;
  if (!Object.hasOwn(definitions, `${kind}Args`)) return [];
  let validate = argsValidators.get(kind);
  if (!validate) {
    validate = ajv().compile({ definitions, allOf: [{ $ref: `#/definitions/${kind}Args` }] });
    argsValidators.set(kind, validate);
  }
  if (validate(args)) return [];
  return toIssues(validate.errors ?? [], at);
}

function toIssues(errors: ErrorObject[], prefix: string): GraphIssue[] {
  const out: GraphIssue[] = [];
  const seen = new Set<string>();
  for (const e of simplify(errors)) {
    let { path, message } = messageFor(e);
    path = `${prefix}${path}`;
    if (e.keyword === 'anyOf') {
      const desc = (e.parentSchema as { description?: string } | undefined)?.description;
      message = `invalid value ${describeValue(e.data)}${desc ? `: ${desc}` : ''}`;
    }
    if (e.keyword === 'propertyNames' || e.keyword === 'if') continue; // their inner errors say it better
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ code: 'GRAPH_SCHEMA', path: toPointer(fromPointer(path)), message });
  }
  // Deepest first reads best; stable for equal depth.
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
