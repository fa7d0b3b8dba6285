// Shared pieces of the fault scenarios: what a scenario reports, an
// executions file that counts side effects, graph builders, process
// bookkeeping and bounded waits against the HTTP API.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentHandle, api, type OrchestratorHandle, waitFor } from '../testing/stack.js';

// The API's own shapes: scenarios read what the HTTP API answers.
import type { TaskStatus } from '../../orchestrator/src/model/types.js';
export type { TaskStatus };
export interface AttemptView {
  number: number;
  deviceId: string;
  outcome?: string;
  error?: string;
}
export interface TaskView {
  status: TaskStatus;
  attempts: AttemptView[];
  spec?: { retries?: number };
}
export interface ConstellationView {
  id: string;
  status: string;
  tasks: Record<string, TaskView>;
}
export interface DeviceView {
  id: string;
  name: string;
  status: string;
}

/** One row of the suite's table, and what the vitest suite asserts on. */
export interface ScenarioReport {
  id: string;
  title: string;
  injected: string;
  /** Final task states, counted ("succeeded": 24). */
  finalStates: Record<string, number>;
  expectedStates: Record<string, number>;
  /** Side effects that ran to their end (lines in the executions file). */
  executions: number;
  /** The most the retry policy allows (sum over tasks of 1 + retries). */
  allowed: number;
  /** Tasks whose side effect ran more than once. */
  duplicated: string[];
  /** When at-least-once is the documented guarantee, duplicates are expected and reported, not failures. */
  atLeastOnce?: boolean;
  recovery?: { ms: number; what: string };
  notes: string[];
  skipped?: string;
  /** A failure this suite already reported (docs/fault-injection.md, "Known gaps"): shown, not fatal to the run. */
  knownBug?: string;
  ok: boolean;
  /** Scenario-specific facts the tests assert on. */
  facts: Record<string, unknown>;
}

export interface ScenarioOptions {
  /** Smaller sizes, fewer rounds (what the vitest suite uses). */
  quick?: boolean;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
}

export function workDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `orrery-fault-${prefix}-`));
}

/** Every task appends its id to this file as its last act, so the file counts completed side effects. */
export class Executions {
  constructor(readonly file: string) {}

  lines(): string[] {
    try {
      return readFileSync(this.file, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  get count(): number {
    return this.lines().length;
  }

  perTask(): Map<string, number> {
    const m = new Map<string, number>();
    for (const l of this.lines()) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  }

  duplicated(): string[] {
    return [...this.perTask()].filter(([, n]) => n > 1).map(([id]) => id);
  }

  /** A shell command: sleep, then record the side effect. */
  command(taskId: string, sleepSeconds: number): string {
    return `${sleepSeconds > 0 ? `sleep ${sleepSeconds}; ` : ''}echo ${taskId} >> ${this.file}`;
  }
}

/** `layers` layers of `width` tasks; each task needs the whole layer above. */
export function layeredGraph(
  name: string,
  ex: Executions,
  o: {
    layers: number;
    width: number;
    sleep: number;
    retries?: number;
    target?: { labels: string[] };
    prefix?: string;
  },
): { name: string; tasks: Record<string, unknown> } {
  const tasks: Record<string, unknown> = {};
  const p = o.prefix ?? 't';
  for (let layer = 0; layer < o.layers; layer++) {
    for (let i = 0; i < o.width; i++) {
      const id = `${p}${layer}_${i}`;
      tasks[id] = {
        run: ex.command(id, o.sleep),
        ...(o.retries ? { retries: o.retries } : {}),
        ...(o.target ? { target: o.target } : {}),
        ...(layer > 0
          ? {
              needs: Array.from({ length: o.width }, (_, j) => `${p}${layer - 1}_${j}`),
            }
          : {}),
      };
    }
  }
  return { name, tasks };
}

export function allowedExecutions(graph: { tasks: Record<string, unknown> }): number {
  let n = 0;
  for (const t of Object.values(graph.tasks)) n += 1 + ((t as { retries?: number }).retries ?? 0);
  return n;
}

export function countStates(c: ConstellationView): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of Object.values(c.tasks)) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}

/** Tasks of `c` running on the agent named `deviceName` (device ids are `dev-<name>` without auth). */
export function runningOn(c: ConstellationView, deviceName: string): number {
  return Object.values(c.tasks).filter((t) => t.status === 'running' && t.attempts.at(-1)?.deviceId === `dev-${deviceName}`).length;
}

export function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function getConstellation(url: string, id: string): Promise<ConstellationView> {
  return api<ConstellationView>(url, 'GET', `/v1/constellations/${id}`);
}

export async function submit(url: string, graph: unknown): Promise<ConstellationView> {
  return api<ConstellationView>(url, 'POST', '/v1/constellations', graph);
}

/** Waits for a terminal constellation state; `url` is read each time, so a restarted orchestrator is followed. */
export function waitFinished(url: () => string, id: string, timeoutMs: number): Promise<ConstellationView> {
  return waitFor(
    async () => {
      const c = await getConstellation(url(), id);
      return ['succeeded', 'failed', 'cancelled'].includes(c.status) ? c : undefined;
    },
    `constellation ${id} to finish`,
    timeoutMs,
    100,
  );
}

export async function devices(url: string): Promise<DeviceView[]> {
  return (await api<{ items: DeviceView[] }>(url, 'GET', '/v1/devices')).items;
}

export function waitDevices(url: string, names: string[], status: string, timeoutMs = 20_000): Promise<true> {
  return waitFor(
    async () => {
      const items = await devices(url);
      return names.every((n) => items.some((d) => d.name === n && d.status === status)) || undefined;
    },
    `${names.join(', ')} ${status}`,
    timeoutMs,
    25,
  ) as Promise<true>;
}

export async function health(url: string): Promise<{ status: string; detail?: string } | undefined> {
  try {
    const res = await fetch(new URL('/healthz', url));
    return (await res.json()) as { status: string; detail?: string };
  } catch {
    return undefined;
  }
}

/** Reads one counter from /metrics (0 when absent). */
export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** Processes a scenario started; all are SIGKILLed at the end, whatever happened. */
export class Processes {
  private readonly list: Array<OrchestratorHandle | AgentHandle> = [];
  private readonly cleanups: Array<() => Promise<void> | void> = [];

  add<T extends OrchestratorHandle | AgentHandle>(p: T): T {
    this.list.push(p);
    return p;
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async killAll(): Promise<void> {
    await Promise.all(this.list.splice(0).map((p) => p.kill('SIGKILL', 5_000)));
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort: a cleanup must not hide the scenario's own result
      }
    }
  }
}

/** Builds the report: states and executions checked against expectations. */
export function report(
  base: Omit<ScenarioReport, 'ok' | 'duplicated' | 'executions'> & {
    ex: Executions;
    extraOk?: boolean;
  },
): ScenarioReport {
  const { ex, extraOk, ...rest } = base;
  const executions = ex.count;
  const duplicated = ex.duplicated();
  const statesOk = sameCounts(rest.finalStates, rest.expectedStates);
  const execOk = rest.atLeastOnce
    ? executions >= Object.values(rest.expectedStates).reduce((a, b) => a + b, 0)
    : executions <= rest.allowed && duplicated.length === 0;
  return {
    ...rest,
    executions,
    duplicated,
    ok: statesOk && execOk && extraOk !== false,
  };
}

export function skippedReport(id: string, title: string, injected: string, why: string): ScenarioReport {
  return {
    id,
    title,
    injected,
    finalStates: {},
    expectedStates: {},
    executions: 0,
    allowed: 0,
    duplicated: [],
    notes: [],
    skipped: why,
    ok: true,
    facts: {},
  };
}
