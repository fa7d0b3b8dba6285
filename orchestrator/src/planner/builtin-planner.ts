// The built-in planner: no network, no model. Plans from the controlled
// language (controlled-language.ts) and replans with a fixed rule set
// (builtin-replanner.ts), so the default install works offline.
import { OrreryError } from '../errors.js';
import { GraphError, normaliseGraph } from '../graph/index.js';
import type { TargetSelector } from '../model/types.js';
import { builtinReplan } from './builtin-replanner.js';
import { type Clause, parsePlan } from './controlled-language.js';
import { allLabels, describeKnownTargets } from './device-profiles.js';
import type {
  DeviceProfile,
  PlannerIdentity,
  PlannerTranscript,
  PlanResult,
  ReplanRequest,
  ReplanResult,
} from './types.js';

/** A task id from a command: its first words, slugged ("./gradlew assembleRelease" -> "gradlew-assemblerelease"). */
export function idFromCommand(command: string): string {
  const words = command
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0)
    .slice(0, 3);
  return (words.join('-') || 'step').slice(0, 40).replace(/-+$/, '');
}

function unknownTarget(sentence: string, clause: Clause, what: string, devices: DeviceProfile[]): OrreryError {
  const message = `at column ${clause.target.at + 1}: ${what}; known ${describeKnownTargets(devices)}`;
  return new OrreryError('PLANNER_UNKNOWN_TARGET', message, {
    status: 422,
    issues: [
      {
        code: 'PLANNER_UNKNOWN_TARGET',
        message: `${message}\n  ${sentence}\n  ${' '.repeat(clause.target.at)}^`,
        column: clause.target.at + 1,
      },
    ],
    hint: 'Use a connected device name or one of their labels (`orrery devices`), or "any".',
  });
}

/**
 * Where a clause runs. With devices known: a device name (or id) pins the
 * task, otherwise the name must be a label some device has. With no device
 * connected yet, nothing can be checked: the name is taken as a label and
 * the plan carries a warning.
 */
function resolveTarget(sentence: string, clause: Clause, devices: DeviceProfile[], warnings: string[]): TargetSelector {
  const { kind, name } = clause.target;
  if (kind === 'any') return {};
  const device = devices.find((d) => d.name === name || d.id === name);
  const labelKnown = allLabels(devices).includes(name);
  if (kind === 'device') {
    if (!device && devices.length > 0)
      throw unknownTarget(sentence, clause, `no device is named ${JSON.stringify(name)}`, devices);
    if (!device) warnings.push(`no device is connected yet: device ${name} could not be checked`);
    return { device: device?.name ?? name };
  }
  if (kind === 'auto' && device) return { device: device.name };
  if (!labelKnown && devices.length > 0) {
    throw unknownTarget(
      sentence,
      clause,
      `no device is named ${JSON.stringify(name)} and none has that label`,
      devices,
    );
  }
  if (!labelKnown) warnings.push(`no device is connected yet: "${name}" is taken as a label, unchecked`);
  return { labels: [name] };
}

export function planFromSentence(sentence: string, devices: DeviceProfile[]): PlanResult {
  const { name: givenName, stages } = parsePlan(sentence);
  const warnings: string[] = [];
  const tasks: Record<string, Record<string, unknown>> = {};
  const explicit = new Set(stages.flatMap((s) => s.clauses.map((c) => c.id).filter((id): id is string => !!id)));
  let previous: string[] = [];
  for (const stage of stages) {
    const current: string[] = [];
    for (const clause of stage.clauses) {
      let id = clause.id;
      if (id === undefined) {
        const base = idFromCommand(clause.command);
        id = base;
        for (let n = 2; Object.hasOwn(tasks, id) || explicit.has(id); n++) id = `${base}-${n}`;
      } else if (Object.hasOwn(tasks, id)) {
        throw new OrreryError(
          'PLANNER_PARSE_ERROR',
          `at column ${clause.at + 1}: task id ${JSON.stringify(id)} is used twice`,
          {
            status: 422,
            hint: 'Give each step its own id with "as <id>".',
          },
        );
      }
      const task: Record<string, unknown> = {};
      const target = resolveTarget(sentence, clause, devices, warnings);
      if (Object.keys(target).length > 0) task.target = target;
      const upstream = clause.after.length > 0 ? clause.after : previous;
      if (upstream.length > 0) {
        task.needs =
          stage.join === 'completion' && clause.after.length === 0
            ? Object.fromEntries(upstream.map((u) => [u, 'completion']))
            : [...upstream];
      }
      task.run = clause.command;
      if (clause.output) task.outputs = { [clause.output]: 'stdout' };
      if (Object.keys(clause.artifacts).length > 0) task.artifacts = { ...clause.artifacts };
      if (Object.keys(clause.inputs).length > 0) {
        task.artifactInputs = Object.fromEntries(
          Object.entries(clause.inputs).map(([dest, src]) => [dest, `tasks.${src.task}.artifacts.${src.artifact}`]),
        );
      }
      if (clause.retries !== undefined) task.retries = clause.retries;
      if (clause.timeout !== undefined) task.timeout = clause.timeout;
      tasks[id] = task;
      current.push(id);
    }
    previous = current;
  }
  const name = givenName ?? `planned-${Object.keys(tasks)[0]}`;
  const graph = { name, description: sentence, tasks };
  checkGraph(graph);
  return { graph, planner: { kind: 'builtin' }, warnings };
}

/**
 * The sentence parsed, but the graph may still be wrong ("after" a task that
 * does not exist, an output reference that is not upstream): say so now, with
 * the graph format's own code, rather than at submit.
 */
function checkGraph(graph: Record<string, unknown>): void {
  try {
    normaliseGraph(graph);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    const first = err.issues[0];
    throw new OrreryError(
      first?.code ?? 'GRAPH_INVALID',
      `The planned graph is invalid: ${err.issues.map((i) => i.message).join('; ')}`,
      {
        status: 422,
        issues: err.issues,
        hint: 'Check the "after" options and the tasks.<id>.outputs.<name> references in the sentence (docs/planner.md).',
      },
    );
  }
}

export class BuiltinPlanner {
  readonly identity: PlannerIdentity = { kind: 'builtin' };

  async plan(sentence: string, devices: DeviceProfile[], transcript?: PlannerTranscript): Promise<PlanResult> {
    if (transcript) transcript.prompt = sentence;
    const result = planFromSentence(sentence, devices);
    if (transcript) transcript.response = JSON.stringify(result.graph);
    return result;
  }

  async replan(request: ReplanRequest, transcript?: PlannerTranscript): Promise<ReplanResult> {
    const result = builtinReplan(request);
    if (transcript) {
      transcript.prompt = JSON.stringify({ failure: request.failure, hint: request.hint, revision: request.revision });
      transcript.response = JSON.stringify(result);
    }
    return result;
  }
}
