// The scenarios in the order the suite runs them.
import type { ScenarioOptions, ScenarioReport } from '../lib.js';
import { orchestratorKillScenario } from './orchestrator-kill.js';

export interface Scenario {
  id: string;
  title: string;
  run(opts: ScenarioOptions): Promise<ScenarioReport>;
}

export const SCENARIOS: Scenario[] = [
  { id: 'b', title: 'orchestrator kill -9, restart (repeated)', run: orchestratorKillScenario },
];
