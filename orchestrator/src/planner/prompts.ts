// The LLM planner's prompts. Plain text, no vendor-specific features: the
// graph format and the edit operations are described in the prompt itself.
import type { Constellation } from '../model/types.js';
import { describeDevices } from './device-profiles.js';
import type { DeviceProfile, ReplanRequest } from './types.js';

const GRAPH_FORMAT = `Graph format (JSON):
{ "name": string, "description"?: string, "inputs"?: { "<name>": string },
  "tasks": { "<id>": {
    "run": "<POSIX shell command>",
    "needs"?: ["<id>", ...] | { "<id>": "success" | "completion" | "failure" | { "if": "<condition>" } },
    "target"?: { "device"?: "<device name>", "labels"?: ["<label>"], "os"?: string, "arch"?: string,
                 "capabilities"?: ["<feature>"], "minMemoryMb"?: number, "minCpus"?: number, "gpus"?: number },
    "outputs"?: { "<name>": "stdout" | "json" | { "json": "<dotted.path>" } | { "file": "<path>" } },
    "env"?: { "<NAME>": string }, "retries"?: number, "timeout"?: "30s" | "10m" | "1h" } } }
Task ids match ^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$. Unknown fields are errors.
Pass data with "\${{ tasks.<id>.outputs.<name> }}" (only from tasks upstream through needs), preferably via env.`;

export function planSystemPrompt(devices: readonly DeviceProfile[]): string {
  return `You turn a request into an Orrery task graph: shell tasks on devices, with dependencies.
Answer with ONE JSON object (the graph) and nothing else.
${GRAPH_FORMAT}
Rules: target only the devices below: pin with "device" (its name) or select by "labels", "os", "capabilities"
that some device has. Use only labels and names listed. Prefer parallel branches where steps are independent.
Keep commands short and safe.
Devices:
${describeDevices(devices)}`;
}

/** A compact view of the constellation for the replanner: what ran where, and what it produced. */
export function describeState(c: Constellation, deviceName: (id: string) => string = (id) => id): string {
  const deps = new Map<string, string[]>();
  for (const d of c.dependencies)
    deps.set(d.to, [...(deps.get(d.to) ?? []), d.kind === 'success' ? d.from : `${d.from}(${d.kind})`]);
  const lines = Object.entries(c.tasks).map(([id, t]) => {
    const last = t.attempts.at(-1);
    const parts = [
      `- ${id}: status=${t.status}`,
      `run=${JSON.stringify(t.spec.executor.command ?? t.spec.executor.kind)}`,
      `target=${JSON.stringify(t.spec.target)}`,
      deps.get(id) ? `needs=[${deps.get(id)!.join(',')}]` : '',
      Object.keys(t.spec.outputs).length ? `declares outputs=[${Object.keys(t.spec.outputs).join(',')}]` : '',
      Object.keys(t.outputs).length ? `outputs=${JSON.stringify(t.outputs)}` : '',
      last
        ? `attempts=${t.attempts.length} last on ${deviceName(last.deviceId)}${last.exitCode !== undefined ? ` exit ${last.exitCode}` : ''}${last.error ? ` error ${JSON.stringify(last.error)}` : ''}`
        : '',
    ];
    return parts.filter(Boolean).join(' ');
  });
  return `Constellation ${c.id} "${c.name}" status=${c.status} revision=${c.revision}\n${lines.join('\n')}`;
}

export function replanSystemPrompt(devices: readonly DeviceProfile[]): string {
  return `You repair a running Orrery task graph after a failure by proposing an edit batch.
Answer with ONE JSON object and nothing else: { "comment": "<why, one sentence>", "operations": [ ... ] }.
Operations (applied in order, all or nothing):
- { "op": "retry_task", "taskId": "<id>" }  (a failed/timed_out/cancelled/skipped task runs again with a fresh retry budget)
- { "op": "update_task", "taskId": "<id>", "task": <task in the graph format, without needs> }  (only pending/ready tasks; put it after retry_task to change a failed task)
- { "op": "add_task", "taskId": "<new id>", "task": <task in the graph format>, "needs"?: ["<id>", ...] }
- { "op": "remove_task", "taskId": "<id>" }  (pending/ready/skipped tasks)
- { "op": "add_dependency", "dependency": { "from": "<id>", "to": "<id>", "kind": "success" } }
- { "op": "remove_dependency", "from": "<id>", "to": "<id>" }
- { "op": "cancel_task", "taskId": "<id>" }, { "op": "skip_task", "taskId": "<id>" }
Return "operations": [] when nothing sensible can be changed. Target only the devices below.
${GRAPH_FORMAT}
Devices:
${describeDevices(devices)}`;
}

export function replanUserPrompt(req: ReplanRequest): string {
  const name = (id: string): string => req.devices.find((d) => d.id === id)?.name ?? id;
  const f = req.failure;
  const failure = f
    ? `Failed for good: task ${f.taskId} (${f.status})${f.exitCode !== undefined ? `, exit code ${f.exitCode}` : ''}${f.error ? `, error: ${f.error}` : ''}${f.deviceId ? `, on device ${name(f.deviceId)}` : ''}.
Last lines of its log:
${f.logTail || '(no output)'}`
    : 'Replanning was requested; no single task triggered it.';
  return `${describeState(req.state, name)}

${failure}
${req.hint ? `\nOperator hint: ${req.hint}\n` : ''}
Propose the edit batch.`;
}
