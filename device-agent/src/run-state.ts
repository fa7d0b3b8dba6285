// The agent's own record of its process, for `orrery-agent status`:
// <dataDir>/agent-state.json, written at start and again at exit. A pid whose
// process is gone without an exit record means the agent was killed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileDurable } from './durable-file.js';

export interface AgentRunState {
  pid: number;
  startedAt: number;
  version: string;
  server: string;
  /** Connected to the orchestrator now? Since when, and why not. */
  connected?: boolean;
  connectionChangedAt?: number;
  deviceId?: string;
  disconnectReason?: string;
  /** Set when the process ended on its own (not when it was killed). */
  exitCode?: number;
  stoppedAt?: number;
}

export const RUN_STATE_FILE = 'agent-state.json';

export function writeRunState(dataDir: string, state: AgentRunState): void {
  try {
    writeFileDurable(path.join(dataDir, RUN_STATE_FILE), `${JSON.stringify(state)}\n`);
  } catch {
    // Status information only: never a reason to stop the agent.
  }
}

export function readRunState(dataDir: string): AgentRunState | undefined {
  try {
    const s = JSON.parse(readFileSync(path.join(dataDir, RUN_STATE_FILE), 'utf8')) as AgentRunState;
    return typeof s.pid === 'number' ? s : undefined;
  } catch {
    return undefined;
  }
}
