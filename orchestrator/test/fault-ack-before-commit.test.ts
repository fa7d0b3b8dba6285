// Fault injection (scripts/fault scenario e2): the disk under the journal is
// full, tasks finish, and the orchestrator is SIGKILLed before space returns.
// Needs the right to mount a tmpfs (root or CAP_SYS_ADMIN), else skipped.
import { describe, expect, it } from 'vitest';
import { diskFullCrashScenario } from '../../scripts/fault/scenarios/disk-full-crash.js';
import { tmpfsSupport } from '../../scripts/fault/tmpfs.js';

const support = tmpfsSupport();
if (!support.ok) console.warn(`fault-ack-before-commit: skipped: ${support.why}`);

describe.skipIf(!support.ok)('fault: results received while the journal cannot be written', () => {
  // KNOWN BUG, kept as `it.fails` so the suite stays green until it is fixed
  // (then this test fails: make it a plain `it`). The orchestrator's AIP
  // session acknowledges a Result on receipt (protocol ReliableLink ack timer,
  // or at once after ackEvery messages), before the engine has journaled it.
  // The agent then drops the Result from its outbox. If the journal cannot be
  // written (full disk) and the orchestrator dies, the Result is gone: after
  // the restart the attempt is reconciled as lost and the task runs again
  // (here: 6 side effects for 3 tasks). The same race exists without a full
  // disk when acks go out before the tick's commit (ackEvery under load).
  // Fix: acknowledge a reliable message only once its effect is committed:
  // protocol/src/server/server-session.ts (let the application hold the
  // cumulative ack, e.g. holdAcks()/ackThrough(seq)), and
  // orchestrator/src/engine/agent-gateway.ts + engine.ts flush()/commit():
  // release the acks of a tick's messages after commit() succeeds, and
  // never while storeFailure is set.
  it.fails('keeps results that arrived while the disk was full across an orchestrator crash: every task ran once', async () => {
    const r = await diskFullCrashScenario({ quick: true });
    expect(r.finalStates).toEqual({ succeeded: 3 });
    expect(r.executions).toBe(3);
  });
});
