import { describe, expect, it } from 'vitest';
import { DeviceRefusals } from '../src/engine/device-refusals.js';

describe('device refusals', () => {
  const s1 = { id: 's1' };
  const s2 = { id: 's2' };

  it('keeps lasting refusals for the refusing session only', () => {
    const r = new DeviceRefusals();
    const sessions: Record<string, unknown> = { a: s1, b: s1 };
    expect(r.record('c/t', 'a', s1, 'COMMAND_NOT_ALLOWED')).toBe(true);
    expect(r.record('c/t', 'b', s1, 'UNSUPPORTED_EXECUTOR')).toBe(true);
    expect(r.refusedBy('c/t', (id) => sessions[id])).toEqual(['a', 'b']);
    sessions.a = s2; // device a reconnected: it is asked again
    expect(r.refusedBy('c/t', (id) => sessions[id])).toEqual(['b']);
  });

  it('keeps nothing for transient refusals (busy, draining)', () => {
    const r = new DeviceRefusals();
    expect(r.record('c/t', 'a', s1, 'NO_FREE_SLOT')).toBe(false);
    expect(r.record('c/t', 'a', s1, 'DRAINING')).toBe(false);
    expect(r.size).toBe(0);
  });

  it('forgets by device (returning the tasks to requeue) and by task', () => {
    const r = new DeviceRefusals();
    r.record('c/t1', 'a', s1, 'EXECUTOR_NOT_ALLOWED');
    r.record('c/t2', 'a', s1, 'EXECUTOR_NOT_ALLOWED');
    r.record('c/t2', 'b', s1, 'BAD_ASSIGN');
    expect(r.forgetDevice('a').sort()).toEqual(['c/t1', 'c/t2']);
    expect(r.refusedBy('c/t2', () => s1)).toEqual(['b']);
    expect(r.size).toBe(1);
    r.forgetTask('c/t2');
    expect(r.size).toBe(0);
    expect(r.forgetDevice('b')).toEqual([]);
  });
});
