// User format -> GraphSpec. Runs on a document that passed the JSON Schema,
// so shapes are known; semantic problems are collected as issues.

import { DEFAULT_RETRY_POLICY } from '../model/backoff.js';
import { ConditionSyntaxError, parseCondition } from '../model/condition-parse.js';
import type {
  Dependency,
  ExecutorSpec,
  GraphSpec,
  OutputSource,
  RetryPolicy,
  TargetSelector,
  TaskSpec,
} from '../model/types.js';
import { taskArtifacts } from './artifact-refs.js';
import { parseDuration } from './durations.js';
import { executorArgsIssues } from './executor-args.js';
import { type GraphIssue, toPointer } from './graph-error.js';

type Scalar = string | number | boolean;

export interface RawTask {
  name?: string;
  description?: string;
  target?: TargetSelector;
  run?: string;
  executor?: {
    kind: string;
    command?: string;
    env?: Record<string, Scalar>;
    cwd?: string;
    args?: Record<string, unknown>;
  };
  env?: Record<string, Scalar>;
  cwd?: string;
  inputs?: Record<string, Scalar>;
  outputs?: Record<string, 'stdout' | 'json' | 'status' | { file: string } | { json: string } | { header: string }>;
  /** name -> file path or glob in the work dir. */
  artifacts?: Record<string, string>;
  /** destination path -> tasks.<id>.artifacts.<name>. */
  artifactInputs?: Record<string, string>;
  needs?: string[] | Record<string, 'success' | 'completion' | 'failure' | { if: string }>;
  retries?: number | { max: number; backoff?: number | string; maxBackoff?: number | string; multiplier?: number };
  timeout?: number | string;
  priority?: number;
}

export interface RawDefaults {
  target?: TargetSelector;
  retries?: RawTask['retries'];
  timeout?: number | string;
  priority?: number;
  env?: Record<string, Scalar>;
  cwd?: string;
}

export interface RawGraph {
  name: string;
  description?: string;
  replan?: 'off' | 'propose' | 'auto';
  inputs?: Record<string, Scalar>;
  defaults?: RawDefaults;
  tasks: Record<string, RawTask>;
}

const stringify = (r: Record<string, Scalar> | undefined): Record<string, string> =>
  r ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)])) : {};

function cloneTarget(t: TargetSelector): TargetSelector {
  const copy = { ...t };
  if (t.labels) copy.labels = [...t.labels];
  if (t.capabilities) copy.capabilities = [...t.capabilities];
  return copy;
}

function retryPolicy(raw: RawTask['retries']): RetryPolicy {
  if (raw === undefined) return { ...DEFAULT_RETRY_POLICY };
  if (typeof raw === 'number') return { ...DEFAULT_RETRY_POLICY, max: raw };
  const initial = parseDuration(raw.backoff) ?? DEFAULT_RETRY_POLICY.initialBackoffMs;
  return {
    max: raw.max,
    initialBackoffMs: initial,
    maxBackoffMs: Math.max(parseDuration(raw.maxBackoff) ?? DEFAULT_RETRY_POLICY.maxBackoffMs, initial),
    multiplier: raw.multiplier ?? DEFAULT_RETRY_POLICY.multiplier,
  };
}

function output(raw: NonNullable<RawTask['outputs']>[string]): OutputSource {
  if (raw === 'stdout') return { from: 'stdout' };
  if (raw === 'json') return { from: 'json' };
  if (raw === 'status') return { from: 'status' };
  if ('file' in raw) return { from: 'file', path: raw.file };
  if ('header' in raw) return { from: 'header', name: raw.header };
  return raw.json ? { from: 'json', path: raw.json } : { from: 'json' };
}

function executor(id: string, t: RawTask, d: RawDefaults, issues: GraphIssue[]): ExecutorSpec {
  const path = toPointer(['tasks', id]);
  if (t.run !== undefined && t.executor !== undefined) {
    issues.push({ code: 'GRAPH_SCHEMA', path, message: `task ${id} has both run and executor; give one` });
  } else if (t.run === undefined && t.executor === undefined) {
    issues.push({ code: 'GRAPH_SCHEMA', path, message: `task ${id} needs run (a shell command) or executor` });
  }
  const ex = t.executor;
  const spec: ExecutorSpec = ex ? { kind: ex.kind } : { kind: 'shell', command: t.run ?? '' };
  if (ex?.command !== undefined) spec.command = ex.command;
  if (ex && ex.kind === 'shell' && ex.command === undefined) {
    issues.push({
      code: 'GRAPH_SCHEMA',
      path: toPointer(['tasks', id, 'executor']),
      message: 'a shell executor needs a command',
    });
  }
  if (d.env || t.env || ex?.env) {
    const env = { ...stringify(d.env), ...stringify(t.env), ...stringify(ex?.env) };
    if (Object.keys(env).length > 0) spec.env = env;
  }
  const cwd = ex?.cwd ?? t.cwd ?? d.cwd;
  if (cwd !== undefined) spec.cwd = cwd;
  if (ex?.args !== undefined) spec.args = ex.args;
  issues.push(...executorArgsIssues(id, t));
  return spec;
}

function dependencies(id: string, t: RawTask, issues: GraphIssue[]): Dependency[] {
  const needs = t.needs;
  if (needs === undefined) return [];
  if (Array.isArray(needs)) {
    const seen = new Set<string>();
    const out: Dependency[] = [];
    needs.forEach((from, i) => {
      if (seen.has(from)) {
        issues.push({
          code: 'GRAPH_SCHEMA',
          path: toPointer(['tasks', id, 'needs', i]),
          message: `task ${id} lists ${from} twice in needs`,
        });
      } else out.push({ from, to: id, kind: 'success' });
      seen.add(from);
    });
    return out;
  }
  return Object.entries(needs).map(([from, kind]): Dependency => {
    if (typeof kind === 'string') return { from, to: id, kind };
    try {
      parseCondition(kind.if);
    } catch (e) {
      if (!(e instanceof ConditionSyntaxError)) throw e;
      issues.push({
        code: 'GRAPH_INVALID_CONDITION',
        path: toPointer(['tasks', id, 'needs', from, 'if']),
        message: `invalid condition ${JSON.stringify(kind.if)}: ${e.message}`,
      });
    }
    return { from, to: id, kind: 'condition', condition: kind.if };
  });
}

/** Build the GraphSpec; shape-level problems go to `issues`. */
export function buildSpec(g: RawGraph, issues: GraphIssue[]): GraphSpec {
  const d = g.defaults ?? {};
  const tasks: TaskSpec[] = [];
  const deps: Dependency[] = [];
  for (const [id, t] of Object.entries(g.tasks)) {
    const outputs: Record<string, OutputSource> = t.outputs
      ? Object.fromEntries(Object.entries(t.outputs).map(([name, o]) => [name, output(o)]))
      : {};
    const spec: TaskSpec = {
      id,
      name: t.name ?? id,
      target: cloneTarget(t.target ?? d.target ?? {}),
      executor: executor(id, t, d, issues),
      inputs: stringify(t.inputs),
      outputs,
      priority: t.priority ?? d.priority ?? 0,
      retry: retryPolicy(t.retries ?? d.retries),
    };
    if (t.description !== undefined) spec.description = t.description;
    const timeout = parseDuration(t.timeout ?? d.timeout);
    if (timeout !== undefined && timeout > 0) spec.timeoutMs = timeout;
    const needs = dependencies(id, t, issues);
    const art = taskArtifacts(id, t, g.tasks, new Set(needs.map((n) => n.from)), issues);
    if (art.artifacts) spec.artifacts = art.artifacts;
    if (art.artifactInputs) spec.artifactInputs = art.artifactInputs;
    tasks.push(spec);
    deps.push(...needs, ...art.implied);
  }
  const spec: GraphSpec = { name: g.name, inputs: stringify(g.inputs), tasks, dependencies: deps };
  if (g.description !== undefined) spec.description = g.description;
  if (g.replan !== undefined) spec.replan = g.replan;
  return spec;
}
