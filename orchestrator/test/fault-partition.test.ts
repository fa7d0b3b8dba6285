// Fault injection (quick subset of scripts/fault): partitions between an
// agent and the orchestrator, through a TCP proxy. Outcomes only: final
// states, attempts, stale results and exact execution counts.
import { describe, expect, it } from 'vitest';
import { longPartitionScenario, shortPartitionScenario } from '../../scripts/fault/scenarios/partition.js';

describe('fault: partitions', () => {
  it('a partition shorter than 3 heartbeats heals by session resumption, nothing reruns', async () => {
    const r = await shortPartitionScenario({ quick: true, heartbeatMs: 1000 });
    expect(r.finalStates).toEqual({ succeeded: 2 });
    expect(r.facts.attempts).toEqual([1, 1]);
    expect(r.facts.devicesLost).toBe(0);
    expect(r.executions).toBe(2);
    expect(r.duplicated).toEqual([]);
  });

  it('a longer partition loses the device: tasks rerun elsewhere, late results are stale, nothing completes twice', async () => {
    const [plain, leased] = await longPartitionScenario({ quick: true });
    for (const r of [plain, leased]) {
      expect(r?.finalStates).toEqual({ succeeded: 2 });
      expect(r?.facts.succeededOnce).toBe(true);
      expect(r?.facts.firstLost).toBe(true);
    }
    // Both cut-off agents' results for the superseded attempts were recorded stale.
    expect(plain?.facts.stale).toBe(4);
    // Without a lease, the Cancel for the lost attempts is replayed when the
    // partition heals and stops the cut-off copies before they finish.
    expect(plain?.executions).toBe(2);
    expect(plain?.duplicated).toEqual([]);
    // With --stop-after-disconnect below the lost-device time they ran once.
    expect(leased?.executions).toBe(2);
    expect(leased?.duplicated).toEqual([]);
  });
});
