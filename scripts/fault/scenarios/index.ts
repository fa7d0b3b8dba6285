// The scenarios in the order the suite runs them.
import type { ScenarioOptions, ScenarioReport } from '../lib.js';
import { agentKillScenario } from './agent-kill.js';
import { corruptSnapshotScenario } from './corrupt-snapshot.js';
import { diskFullScenario } from './disk-full.js';
import { diskFullCrashScenario } from './disk-full-crash.js';
import { orchestratorKillScenario } from './orchestrator-kill.js';
import { longPartitionScenario, shortPartitionScenario } from './partition.js';
import { recoveryTimeScenario } from './recovery-time.js';
import { slowAgentScenario } from './slow-agent.js';

export interface Scenario {
  id: string;
  title: string;
  /** Some scenarios yield several rows (variants of one setup). */
  run(opts: ScenarioOptions): Promise<ScenarioReport | ScenarioReport[]>;
}

export const SCENARIOS: Scenario[] = [
  { id: 'a', title: 'agent kill -9 mid-task', run: agentKillScenario },
  { id: 'b', title: 'orchestrator kill -9, restart (repeated)', run: orchestratorKillScenario },
  { id: 'c1', title: 'short partition', run: shortPartitionScenario },
  { id: 'c2', title: 'long partition, with and without --stop-after-disconnect', run: longPartitionScenario },
  { id: 'd', title: 'slow and stalled agent', run: slowAgentScenario },
  { id: 'e', title: 'disk full under the journal', run: diskFullScenario },
  { id: 'e2', title: 'disk full, then orchestrator kill -9', run: diskFullCrashScenario },
  { id: 'f', title: 'damaged snapshots', run: corruptSnapshotScenario },
  { id: 'g', title: 'recovery time at size', run: recoveryTimeScenario },
];
