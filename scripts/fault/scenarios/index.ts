// The scenarios in the order the suite runs them.
import type { ScenarioOptions, ScenarioReport } from '../lib.js';
import { diskFullScenario } from './disk-full.js';
import { orchestratorKillScenario } from './orchestrator-kill.js';
import { longPartitionScenario, shortPartitionScenario } from './partition.js';

export interface Scenario {
  id: string;
  title: string;
  /** Some scenarios yield several rows (variants of one setup). */
  run(opts: ScenarioOptions): Promise<ScenarioReport | ScenarioReport[]>;
}

export const SCENARIOS: Scenario[] = [
  { id: 'b', title: 'orchestrator kill -9, restart (repeated)', run: orchestratorKillScenario },
  { id: 'c1', title: 'short partition', run: shortPartitionScenario },
  { id: 'e', title: 'disk full under the journal', run: diskFullScenario },
  { id: 'c2', title: 'long partition, with and without --stop-after-disconnect', run: longPartitionScenario },
];
