// Fault injection (quick subset of scripts/fault): the orchestrator is
// SIGKILLed repeatedly mid-run and restarted on the same data dir and port.
// Every task completes exactly once, and its side effect ran exactly once.
import { describe, expect, it } from 'vitest';
import { orchestratorKillScenario } from '../../scripts/fault/scenarios/orchestrator-kill.js';

describe('fault: orchestrator kill -9', () => {
  it('survives repeated SIGKILLs at random moments: every task succeeds once, every side effect ran once', async () => {
    const r = await orchestratorKillScenario({ quick: true, kills: 2 });
    expect(r.facts.kills).toBeGreaterThanOrEqual(1);
    expect(r.facts.constellationStatus).toBe('succeeded');
    expect(r.finalStates).toEqual({ succeeded: r.facts.total });
    expect(r.facts.succeededOnce).toBe(true);
    expect(r.executions).toBe(r.facts.total);
    expect(r.duplicated).toEqual([]);
  });
});
