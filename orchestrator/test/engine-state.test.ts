// The engine's reducer: the same events always rebuild the same state, and a
// late result from a superseded attempt is recorded but changes nothing else.
import { describe, expect, it } from 'vitest';
import { EngineState } from '../src/engine/engine-state.js';
import type { AnyEngineEvent } from '../src/engine/journal-events.js';
import { normaliseGraph } from '../src/graph/index.js';

const spec = normaliseGraph({ name: 'g', tasks: { a: { run: 'true' }, b: { run: 'true', needs: ['a'] } } });

const events: AnyEngineEvent[] = [
  { type: 'constellation.submitted', at: 1, data: { id: 'c1', owner: 'me', spec } },
  { type: 'task.assigned', at: 2, data: { id: 'c1', taskId: 'a', attempt: 1, deviceId: 'd1', placement: 'x' } },
  { type: 'task.started', at: 3, data: { id: 'c1', taskId: 'a', attempt: 1, startedAt: 3 } },
  { type: 'task.lost', at: 4, data: { id: 'c1', taskId: 'a', attempt: 1, reason: 'device d1 lost' } },
  { type: 'task.assigned', at: 5, data: { id: 'c1', taskId: 'a', attempt: 2, deviceId: 'd2', placement: 'y' } },
  { type: 'task.stale_result', at: 6, data: { id: 'c1', taskId: 'a', attempt: 1, outcome: 'succeeded' } },
  {
    type: 'task.finished',
    at: 7,
    data: { id: 'c1', taskId: 'a', attempt: 2, outcome: 'succeeded', outputs: {}, endedAt: 7, jitter: 0.5, exitCode: 0 },
  },
];

describe('EngineState.applyEvent', () => {
  it('records a late result on its superseded attempt without applying it', () => {
    const s = new EngineState();
    for (const e of events.slice(0, 6)) expect(s.applyEvent(e).rejected).toBeUndefined();
    const a = s.constellations.get('c1')?.tasks.a;
    expect(a?.status).toBe('assigned');
    expect(a?.attempts[0]).toMatchObject({ number: 1, outcome: 'lost', lateOutcome: 'succeeded' });
    expect(a?.attempts[1]?.outcome).toBeUndefined();
  });

  it('rebuilds the same state from the same events, and from a snapshot plus the rest', () => {
    const live = new EngineState();
    for (const e of events) live.applyEvent(e);
    const replayed = new EngineState();
    for (const e of events) replayed.applyEvent(e);
    expect(replayed.serialize()).toEqual(live.serialize());

    const half = new EngineState();
    for (const e of events.slice(0, 4)) half.applyEvent(e);
    const restored = EngineState.restore(JSON.parse(JSON.stringify(half.serialize())));
    for (const e of events.slice(4)) restored.applyEvent(e);
    expect(restored.serialize()).toEqual(live.serialize());
    expect(live.constellations.get('c1')?.tasks.b?.status).toBe('ready');
  });

  it('rejects a result for an attempt that is not current (fencing)', () => {
    const s = new EngineState();
    for (const e of events.slice(0, 5)) s.applyEvent(e);
    const r = s.applyEvent({
      type: 'task.finished',
      at: 8,
      data: { id: 'c1', taskId: 'a', attempt: 1, outcome: 'failed', outputs: {}, endedAt: 8, jitter: 0 },
    });
    expect(r.rejected?.stale).toBe(true);
    expect(s.constellations.get('c1')?.tasks.a?.status).toBe('assigned');
  });
});
