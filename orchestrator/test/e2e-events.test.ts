// The live event stream (SSE) that the dashboard and `orrery submit --wait`
// follow: task transitions, constellation summaries, logs and edits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../src/api/live-events.js';
import { ApiClient } from '../src/cli/api-client.js';
import { type Stack, startStack } from '../../scripts/testing/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ agents: [{ name: 'streamer' }] });
});
afterAll(async () => {
  await stack?.stop();
});

describe('live events', () => {
  it('streams task transitions, logs, an edit and the final summary of one constellation', async () => {
    const client = new ApiClient(stack.url);
    const c = await client.submit({ name: 'streamed', tasks: { gate: { run: 'sleep 0.5; echo through-the-gate' }, next: { needs: ['gate'], run: 'echo next' } } });
    const abort = new AbortController();
    const seen: LiveEvent[] = [];
    const reading = (async () => {
      for await (const ev of client.events(c.id, abort.signal)) {
        seen.push(ev);
        if (ev.type === 'constellation' && ev.data.status === 'succeeded') break;
      }
    })();
    // Let the stream connect, then edit while `gate` runs.
    await new Promise((r) => setTimeout(r, 200));
    const edited = await client.edit(c.id, { revision: c.revision, operations: [{ op: 'remove_task', taskId: 'next' }] });
    const timeout = setTimeout(() => abort.abort(), 30_000);
    await reading;
    clearTimeout(timeout);
    abort.abort();

    expect(seen.some((e) => e.type === 'edit' && e.data.constellationId === c.id && e.data.revision === edited.revision)).toBe(true);
    const gate = seen.filter((e) => e.type === 'task' && e.data.taskId === 'gate').map((e) => (e.type === 'task' ? e.data.status : ''));
    expect(gate.at(-1)).toBe('succeeded');
    expect(seen.some((e) => e.type === 'log' && e.data.taskId === 'gate' && e.data.text.includes('through-the-gate'))).toBe(true);
    // Only this constellation's events (devices aside) came through the filter.
    expect(seen.every((e) => e.type === 'device' || (e.type === 'constellation' ? e.data.id : e.data.constellationId) === c.id)).toBe(true);
  });
});
