// Pure helpers behind steering, roles, the devices page and the plan preview.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/api-error.js';
import { capabilityEntries, formatValue, humanKey, loadEntries } from '../src/format/capabilities.js';
import { collapseFanouts } from '../src/graph/collapse.js';
import { previewConstellation } from '../src/graph/document-preview.js';
import { addDependencyOperation, addTaskOperation, EMPTY_ADD_TASK, splitList } from '../src/state/edit-forms.js';
import { permissionsAfterError, permissionsFor, STEER_ALLOWED } from '../src/state/permissions.js';

describe('edit forms', () => {
  it('builds an add_task the server accepts: a full spec with defaults, target and needs', () => {
    const op = addTaskOperation({
      ...EMPTY_ADD_TASK,
      id: ' pack ',
      command: 'tar czf out.tgz .',
      labels: 'linux, gpu linux',
      device: 'lab-1',
      needs: 'build,test',
      needsKind: 'completion',
    });
    expect(op).toEqual({
      op: 'add_task',
      task: {
        id: 'pack',
        name: 'pack',
        target: { labels: ['linux', 'gpu'], device: 'lab-1' },
        executor: { kind: 'shell', command: 'tar czf out.tgz .' },
        inputs: {},
        outputs: {},
        priority: 0,
        retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60_000, multiplier: 2 },
      },
      needs: [
        { from: 'build', kind: 'completion' },
        { from: 'test', kind: 'completion' },
      ],
    });
    expect(addTaskOperation({ ...EMPTY_ADD_TASK, id: 'x', command: 'true' })).not.toHaveProperty('needs');
  });

  it('builds an add_dependency, with a condition only for condition edges', () => {
    expect(addDependencyOperation({ from: 'a', to: 'b', kind: 'success', condition: 'ignored' })).toEqual({
      op: 'add_dependency',
      dependency: { from: 'a', to: 'b', kind: 'success' },
    });
    expect(addDependencyOperation({ from: 'a', to: 'b', kind: 'condition', condition: " x == 'y' " })).toEqual({
      op: 'add_dependency',
      dependency: { from: 'a', to: 'b', kind: 'condition', condition: "x == 'y'" },
    });
    expect(splitList(' a,,b  c,a ')).toEqual(['a', 'b', 'c']);
  });
});

describe('permissions', () => {
  it('lets operators and admins steer, not viewers', () => {
    expect(permissionsFor({ role: 'operator', authRequired: true }).canSteer).toBe(true);
    expect(permissionsFor({ role: 'admin', authRequired: false }).canSteer).toBe(true);
    const viewer = permissionsFor({ role: 'viewer', authRequired: true });
    expect(viewer.canSteer).toBe(false);
    expect(viewer.reason).toMatch(/viewer role/);
  });

  it('asks for a token after a 401, and trusts the server when it cannot say (older server)', () => {
    expect(permissionsAfterError(new ApiError(401, { code: 'UNAUTHENTICATED' })).canSteer).toBe(false);
    expect(permissionsAfterError(new ApiError(404, { code: 'NOT_FOUND' }))).toEqual(STEER_ALLOWED);
  });
});

describe('capabilities', () => {
  it('formats known fields, keeps unknown ones, drops readings that do not exist', () => {
    const entries = capabilityEntries({
      os: 'linux',
      labels: ['x'],
      gpus: 0,
      memoryMb: 2048,
      hostname: 'h',
      batteryHealth: 'good',
      disks: [{ mount: '/', freeMb: 1024 }],
      sensor: -1,
    });
    expect(entries.map((e) => e.key)).toEqual(['hostname', 'memoryMb', 'gpus', 'batteryHealth', 'disks']);
    expect(entries.find((e) => e.key === 'disks')?.value).toBe('mount / · free 1.0 GiB');
    expect(humanKey('batteryHealth')).toBe('battery health');
    expect(humanKey('diskFreeMb')).toBe('disk free');
    expect(humanKey('Mb')).toBe('mb');
    expect(formatValue('x', 0.123)).toBe('0.12');
    expect(loadEntries({ loadAvg: [1.5, 1, 1], batteryPercent: 80.4 }).map((e) => e.value)).toEqual(['1.50', '80%']);
  });
});

describe('plan preview', () => {
  it('reads needs as lists and maps, conditions included, and drops edges to unknown tasks', () => {
    const c = previewConstellation({
      name: 'p',
      tasks: {
        a: { run: 'echo a' },
        b: { needs: ['a', 'ghost'] },
        c: { needs: { a: 'failure', b: { if: "tasks.b.status == 'succeeded'" } } },
      },
    });
    if ('error' in c) throw new Error(c.error);
    expect(Object.keys(c.tasks)).toEqual(['a', 'b', 'c']);
    expect(c.dependencies).toEqual([
      { from: 'a', to: 'b', kind: 'success' },
      { from: 'a', to: 'c', kind: 'failure' },
      { from: 'b', to: 'c', kind: 'condition', condition: "tasks.b.status == 'succeeded'" },
    ]);
    expect(previewConstellation('text')).toEqual({ error: 'the document is not a mapping' });
    expect(previewConstellation({ name: 'x' })).toEqual({ error: 'the document has no tasks' });
  });
});

describe('fan-out collapse', () => {
  const shards = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, '0')}`);
  const input = {
    tasks: [{ id: 'split', name: 'split' }, ...shards.map((id) => ({ id, name: id })), { id: 'join', name: 'join' }],
    dependencies: [
      ...shards.map((id) => ({ from: 'split', to: id, kind: 'success' as const })),
      ...shards.map((id) => ({ from: id, to: 'join', kind: 'completion' as const })),
    ],
  };

  it('draws tasks with the same upstream and downstream edges as one group, edges kept once', () => {
    const c = collapseFanouts(input, new Set());
    expect([...c.groups.keys()]).toEqual(['group:s00']);
    expect(c.groups.get('group:s00')).toEqual(shards);
    expect(c.input.tasks.map((t) => t.id)).toEqual(['split', 'join', 'group:s00']);
    expect(c.input.dependencies).toEqual([
      { from: 'split', to: 'group:s00', kind: 'success' },
      { from: 'group:s00', to: 'join', kind: 'completion' },
    ]);
    expect(c.groupOf.get('s17')).toBe('group:s00');
  });

  it('leaves small fan-outs, different signatures and expanded groups alone', () => {
    expect(collapseFanouts(input, new Set(['group:s00'])).groups.size).toBe(0);
    expect(collapseFanouts(input, new Set(), 30).groups.size).toBe(0); // exactly 30 is not more than 30
    const mixed = {
      ...input,
      dependencies: input.dependencies.map((d, i) =>
        i % 2 === 0 && d.from === 'split' ? { ...d, kind: 'failure' as const } : d,
      ),
    };
    expect(collapseFanouts(mixed, new Set()).groups.size).toBe(0); // 15 + 15: neither group is big enough
  });
});
