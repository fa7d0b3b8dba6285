// Artifacts in the graph format: a task's `artifacts` (name -> path or glob
// in its work dir) and `artifactInputs` (destination path -> a reference
// tasks.<id>.artifacts.<name>). A reference is a data dependency: the
// consumer runs after its producer succeeded, as if it listed it in needs.
import type { ArtifactSource, Dependency } from '../model/types.js';
import { type GraphIssue, toPointer } from './graph-error.js';

const REF =
  /^\s*(?:\$\{\{\s*)?tasks\.([A-Za-z0-9_][A-Za-z0-9_-]*)\.artifacts\.([A-Za-z0-9_][A-Za-z0-9_-]*)\s*(?:\}\}\s*)?$/;

/** tasks.<id>.artifacts.<name> (optionally inside ${{ }}), or null. */
export function parseArtifactRef(value: string): ArtifactSource | null {
  const m = REF.exec(value);
  if (!m || (value.includes('${{') && !value.includes('}}'))) return null;
  return { task: m[1] as string, artifact: m[2] as string };
}

/** Why a path is not a safe relative path inside the work dir, or null. */
export function workDirPathProblem(p: string): string | null {
  if (p.trim() === '') return 'is empty';
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) return 'must be relative to the work dir';
  if (p.split(/[\\/]/).some((seg) => seg === '..')) return 'must stay inside the work dir (no ..)';
  if (p.includes('\0')) return 'contains a NUL byte';
  return null;
}

interface RawArtifactTask {
  artifacts?: Record<string, string>;
  artifactInputs?: Record<string, string>;
  needs?: unknown;
}

export interface TaskArtifacts {
  artifacts?: Record<string, string>;
  artifactInputs?: Record<string, ArtifactSource>;
  /** Success edges from producers the task does not already list in needs. */
  implied: Dependency[];
}

/** Reads and checks one task's artifact fields against the whole raw graph. */
export function taskArtifacts(
  id: string,
  t: RawArtifactTask,
  tasks: Record<string, RawArtifactTask>,
  listedNeeds: ReadonlySet<string>,
  issues: GraphIssue[],
): TaskArtifacts {
  const out: TaskArtifacts = { implied: [] };
  if (t.artifacts) {
    for (const [name, p] of Object.entries(t.artifacts)) {
      const why = workDirPathProblem(p);
      if (why)
        issues.push({
          code: 'GRAPH_SCHEMA',
          path: toPointer(['tasks', id, 'artifacts', name]),
          message: `artifact path ${JSON.stringify(p)} ${why}`,
        });
    }
    out.artifacts = { ...t.artifacts };
  }
  if (!t.artifactInputs) return out;
  const inputs: Record<string, ArtifactSource> = {};
  const implied = new Set<string>();
  for (const [dest, value] of Object.entries(t.artifactInputs)) {
    const path = toPointer(['tasks', id, 'artifactInputs', dest]);
    const why = workDirPathProblem(dest);
    if (why) {
      issues.push({ code: 'GRAPH_SCHEMA', path, message: `artifact input destination ${JSON.stringify(dest)} ${why}` });
      continue;
    }
    const ref = parseArtifactRef(value);
    if (!ref) {
      issues.push({
        code: 'GRAPH_SCHEMA',
        path,
        message: `artifact input ${JSON.stringify(value)} must look like tasks.<id>.artifacts.<name>`,
      });
      continue;
    }
    const producer = Object.hasOwn(tasks, ref.task) ? tasks[ref.task] : undefined;
    if (!producer) {
      issues.push({
        code: 'GRAPH_UNKNOWN_REFERENCE',
        path,
        message: `${id}: artifact input names task ${ref.task}, which is not a task`,
      });
      continue;
    }
    if (ref.task === id) {
      issues.push({
        code: 'GRAPH_UNKNOWN_REFERENCE',
        path,
        message: `${id}: a task cannot take its own artifact as input`,
      });
      continue;
    }
    if (!producer.artifacts || !Object.hasOwn(producer.artifacts, ref.artifact)) {
      const known = Object.keys(producer.artifacts ?? {});
      const hint = known.length ? ` (it declares ${known.join(', ')})` : ' (it declares no artifacts)';
      issues.push({
        code: 'GRAPH_UNKNOWN_REFERENCE',
        path,
        message: `${id}: task ${ref.task} has no artifact ${ref.artifact}${hint}`,
      });
      continue;
    }
    inputs[dest] = ref;
    if (!listedNeeds.has(ref.task) && !implied.has(ref.task)) {
      implied.add(ref.task);
      out.implied.push({ from: ref.task, to: id, kind: 'success' });
    }
  }
  out.artifactInputs = inputs;
  return out;
}

/** Pointer to the artifact input of `to` that reads from `from` (for issues on implied edges). */
export function artifactInputPath(t: RawArtifactTask | undefined, to: string, from: string): string | undefined {
  for (const [dest, value] of Object.entries(t?.artifactInputs ?? {})) {
    if (parseArtifactRef(value)?.task === from) return toPointer(['tasks', to, 'artifactInputs', dest]);
  }
  return undefined;
}
