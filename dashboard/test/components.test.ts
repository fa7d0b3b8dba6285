// Component tests: the React components themselves, rendered with
// react-dom/server (the same render functions the browser runs, minus
// effects) and asserted on the markup they produce, read back with
// happy-dom's HTML parser. The browser e2e tests cover effects and events.
import { Window } from 'happy-dom';
import { createElement as h, type ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/api-error.js';
import type { Constellation, DeviceView, TaskState } from '../src/api/types.js';
import { DevicesView } from '../src/components/devices-view.js';
import { EditPanel } from '../src/components/edit-panel.js';
import { PlanPreview } from '../src/components/plan-preview.js';
import { ProblemBox } from '../src/components/problem-box.js';
import { describePlanner, SubmitView } from '../src/components/submit-view.js';
import { SourceEditor } from '../src/components/source-editor.js';
import { downloadName } from '../src/components/artifacts-section.js';
import { ResolvedSection, TaskDrawer } from '../src/components/task-drawer.js';
import { DagView } from '../src/graph/dag-view.js';
import { type Permissions, PermissionsContext, permissionsFor, STEER_ALLOWED } from '../src/state/permissions.js';

const window = new Window();
const VIEWER = permissionsFor({ role: 'viewer', authRequired: true });
const OPERATOR = permissionsFor({ role: 'operator', authRequired: true });

function render(el: ReactElement, perm: Permissions = STEER_ALLOWED): HTMLElement {
  const html = renderToStaticMarkup(h(PermissionsContext.Provider, { value: perm }, el));
  const doc = new window.DOMParser().parseFromString(`<div id="root">${html}</div>`, 'text/html');
  return doc.getElementById('root') as unknown as HTMLElement;
}

function task(id: string, over: Partial<TaskState> = {}): TaskState {
  return {
    spec: {
      id,
      name: id,
      target: {},
      executor: { kind: 'shell', command: `echo ${id}` },
      inputs: {},
      outputs: {},
      priority: 0,
      retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 1000, multiplier: 2 },
    },
    status: 'pending',
    attempts: [],
    outputs: {},
    ...over,
  };
}

function constellation(tasks: Record<string, TaskState>, deps: Constellation['dependencies'] = []): Constellation {
  return {
    id: 'c1',
    name: 'demo',
    revision: 3,
    status: 'running',
    owner: 'local',
    inputs: {},
    tasks,
    dependencies: deps,
    createdAt: 0,
    updatedAt: 0,
  };
}

const noop = () => {};
const byTestId = (root: HTMLElement, id: string) => root.querySelector(`[data-testid="${id}"]`);
const isDisabled = (root: HTMLElement, id: string) => byTestId(root, id)?.hasAttribute('disabled');

describe('TaskDrawer', () => {
  const c = constellation({ build: task('build', { status: 'ready' }), done: task('done', { status: 'succeeded' }) });
  const drawer = (taskId: string, perm: Permissions) =>
    render(h(TaskDrawer, { constellation: c, taskId, devices: new Map(), onClose: noop, onChanged: noop }), perm);

  it('offers cancel and skip for a waiting task to an operator', () => {
    const root = drawer('build', OPERATOR);
    expect(isDisabled(root, 'task-skip')).toBe(false);
    expect(isDisabled(root, 'task-cancel')).toBe(false);
    expect(isDisabled(root, 'task-retry')).toBe(true); // nothing to retry yet
    expect(byTestId(root, 'task-read-only')).toBeNull();
    expect(root.textContent).toContain('echo build');
  });

  it('disables every steering button for a viewer and says why', () => {
    const root = drawer('build', VIEWER);
    for (const id of ['task-skip', 'task-cancel', 'task-retry']) expect(isDisabled(root, id), id).toBe(true);
    expect(byTestId(root, 'task-read-only')?.textContent).toContain('viewer role');
  });

  it('does not offer skip or cancel for a finished task', () => {
    const root = drawer('done', OPERATOR);
    expect(isDisabled(root, 'task-skip')).toBe(true);
    expect(isDisabled(root, 'task-cancel')).toBe(true);
  });
});

describe('TaskDrawer artifacts', () => {
  const digest = 'ab'.repeat(32);
  const make = task('make', {
    status: 'succeeded',
    spec: { ...task('make').spec, artifacts: { bundle: 'dist/app.tgz', logs: 'out/*.log' } },
    artifacts: { bundle: { digest, size: 3 * 1024 * 1024 + 512 }, logs: { digest: 'cd'.repeat(32), size: 17 } },
  });
  const use = task('use', {
    spec: { ...task('use').spec, artifactInputs: { 'app/app.tgz': { task: 'make', artifact: 'bundle' } } },
  });
  const pending = task('later', { spec: { ...task('later').spec, artifacts: { report: 'r.txt' } } });
  const c = constellation({ make, use, later: pending, plain: task('plain') });
  const drawer = (taskId: string) =>
    render(h(TaskDrawer, { constellation: c, taskId, devices: new Map(), onClose: noop, onChanged: noop }));

  it('lists produced artifacts with a readable size, a short digest titled with the full one and a download', () => {
    const row = byTestId(drawer('make'), 'artifact-bundle') as HTMLElement;
    expect(row.textContent).toContain('bundle');
    expect(byTestId(row, 'artifact-size')?.textContent).toBe('3.0 MiB');
    const shown = byTestId(row, 'artifact-digest');
    expect(shown?.textContent).toBe(`sha256:${digest.slice(0, 12)}`);
    expect(shown?.getAttribute('title')).toBe(digest);
    expect(byTestId(row, 'artifact-download')?.textContent).toBe('download');
    expect(byTestId(drawer('make'), 'artifact-logs')?.textContent).toContain('17 B');
  });

  it('shows where each consumed artifact lands and where it comes from', () => {
    const input = byTestId(drawer('use'), 'artifact-input-app/app.tgz');
    expect(input?.textContent).toContain('app/app.tgz');
    expect(input?.textContent).toContain('← tasks.make.artifacts.bundle');
  });

  it('says a declared artifact is not stored yet, and has no section for a task without any', () => {
    expect(byTestId(drawer('later'), 'artifacts-none')?.textContent).toContain('none yet (declares report)');
    expect(byTestId(drawer('plain'), 'task-artifacts')).toBeNull();
  });

  it('names the download after the declared file when it is a plain path', () => {
    expect(downloadName('bundle', 'dist/app.tgz')).toBe('app.tgz');
    expect(downloadName('logs', 'out/*.log')).toBe('logs');
  });
});

describe('ResolvedSection', () => {
  const spec = task('t', {
    spec: {
      ...task('t').spec,
      inputs: { say: '${{ tasks.a.outputs.x }}' },
      executor: { kind: 'shell', command: 'echo "$X"', env: { X: '${{ tasks.a.outputs.x }}' } },
    },
  }).spec;

  it('shows the values an attempt receives', () => {
    const root = render(
      h(ResolvedSection, {
        spec,
        resolved: { inputs: { say: 'hello' }, executor: { kind: 'shell', command: 'echo "$X"', env: { X: 'hello' } } },
      }),
    );
    expect(byTestId(root, 'resolved-input-say')?.textContent).toContain('hello');
    expect(byTestId(root, 'resolved-env-X')?.textContent).toContain('hello');
    expect(root.textContent).toContain('resolved as the attempt receives them');
  });

  it('shows the templates, and says when they resolve, before the upstreams finish', () => {
    const root = render(h(ResolvedSection, { spec, resolved: null }));
    expect(byTestId(root, 'resolved-input-say')?.textContent).toContain('${{ tasks.a.outputs.x }}');
    expect(root.textContent).toContain('resolved once upstreams finish');
  });
});

describe('DevicesView', () => {
  const base: DeviceView = {
    id: 'd1',
    name: 'lab-1',
    status: 'online',
    labels: ['linux'],
    os: 'linux',
    arch: 'x64',
    features: ['docker'],
    slots: 2,
    running: 1,
    lastHeartbeatAt: Date.now() - 1500,
    connectedAt: 0,
    capabilities: {
      os: 'linux',
      arch: 'x64',
      hostname: 'lab-1.local',
      cpus: 8,
      memoryMb: 16384,
      gpus: 1,
      executors: ['shell'],
      // Fields this page has never heard of still show up.
      diskFreeMb: 51200,
      gpuModels: [{ name: 'A100', memoryMb: 40960 }],
    },
    load: { loadAvg: [0.5, 0.4, 0.3], batteryPercent: -1, thermalCelsius: 41, fanRpm: 1200 },
    runningTasks: [{ constellationId: 'c1', taskId: 'build', attempt: 2 }],
  };
  const lost: DeviceView = { ...base, id: 'd2', name: 'lab-2', status: 'lost', runningTasks: [], running: 0 };
  const devices = { items: [base, lost], byId: new Map(), error: null, refresh: noop, upsert: noop };

  it('renders known and unknown capabilities, load, and links to running tasks', () => {
    const root = render(h(DevicesView, { devices }), OPERATOR);
    const caps = byTestId(root, 'device-caps-lab-1') as HTMLElement;
    const value = (key: string) => caps.querySelector(`[data-key="${key}"] dd`)?.textContent;
    expect(value('memoryMb')).toBe('16.0 GiB');
    expect(value('cpus')).toBe('8');
    expect(value('diskFreeMb')).toBe('50.0 GiB');
    expect(value('gpuModels')).toContain('A100');
    expect(caps.querySelector('[data-key="gpuModels"] dt')?.textContent).toBe('gpu models');
    // os/arch have their own column, not repeated here.
    expect(caps.querySelector('[data-key="os"]')).toBeNull();

    const load = byTestId(root, 'device-load-lab-1') as HTMLElement;
    expect(load.querySelector('[data-key="loadAvg"] dd')?.textContent).toBe('0.50');
    expect(load.querySelector('[data-key="batteryPercent"]')).toBeNull(); // -1: no battery
    expect(load.querySelector('[data-key="thermalCelsius"] dd')?.textContent).toBe('41°C');
    expect(load.querySelector('[data-key="fanRpm"] dd')?.textContent).toBe('1200');

    const link = byTestId(root, 'device-tasks-lab-1')?.querySelector('a');
    expect(link?.getAttribute('href')).toBe('#/c/c1/t/build');
    expect(byTestId(root, 'device-tasks-lab-1')?.textContent).toContain('#2');
  });

  it('marks a lost device and counts states', () => {
    const root = render(h(DevicesView, { devices }), OPERATOR);
    const row = byTestId(root, 'device-row-lab-2');
    expect(row?.getAttribute('data-status')).toBe('lost');
    expect(row?.className).toContain('device-lost');
    expect(byTestId(root, 'device-counts')?.textContent).toBe('1 online1 lost');
    expect(isDisabled(root, 'device-drain-lab-2')).toBe(true);
    expect(isDisabled(root, 'device-drain-lab-1')).toBe(false);
  });

  it('disables drain for a viewer', () => {
    const root = render(h(DevicesView, { devices }), VIEWER);
    expect(isDisabled(root, 'device-drain-lab-1')).toBe(true);
    expect(byTestId(root, 'device-drain-lab-1')?.getAttribute('title')).toContain('viewer role');
  });
});

describe('DagView', () => {
  const c = constellation(
    { a: task('a', { status: 'succeeded' }), b: task('b', { status: 'running' }), c: task('c', { status: 'failed' }) },
    [
      { from: 'a', to: 'b', kind: 'success' },
      { from: 'b', to: 'c', kind: 'condition', condition: "tasks.b.outputs.ok == 'yes'" },
    ],
  );

  it('draws every node with its status and every edge with its kind', () => {
    const root = render(h(DagView, { constellation: c, devices: new Map(), selectedTaskId: 'b', onSelectTask: noop }));
    expect(byTestId(root, 'node-a')?.getAttribute('data-status')).toBe('succeeded');
    expect(byTestId(root, 'node-b')?.getAttribute('class')).toContain('selected');
    expect(byTestId(root, 'node-c')?.getAttribute('class')).toContain('status-failed');
    expect(byTestId(root, 'edge-a-b')?.getAttribute('class')).toContain('edge-success');
    expect(byTestId(root, 'edge-b-c')?.textContent).toContain('tasks.b.outputs.ok ==');
    expect(byTestId(root, 'dag')?.getAttribute('data-level')).toBe('full');
    expect(root.querySelectorAll('.node-name')).toHaveLength(3);
  });
});

describe('DagView fan-out groups', () => {
  it('draws 30 shards between a split and a join as one group with their statuses', () => {
    const tasks: Record<string, TaskState> = { split: task('split', { status: 'succeeded' }), join: task('join') };
    const deps: Constellation['dependencies'] = [];
    for (let i = 0; i < 30; i++) {
      const id = `s${String(i).padStart(2, '0')}`;
      tasks[id] = task(id, { status: i < 20 ? 'succeeded' : 'running' });
      deps.push({ from: 'split', to: id, kind: 'success' }, { from: id, to: 'join', kind: 'success' });
    }
    const root = render(
      h(DagView, {
        constellation: constellation(tasks, deps),
        devices: new Map(),
        selectedTaskId: null,
        onSelectTask: noop,
      }),
    );
    const group = byTestId(root, 'group-s00');
    expect(group?.getAttribute('data-count')).toBe('30');
    expect(group?.getAttribute('data-status')).toBe('running');
    expect(group?.textContent).toContain('20 succeeded · 10 running');
    expect(byTestId(root, 'node-s05')).toBeNull();
    expect(byTestId(root, 'edge-split-group:s00')).not.toBeNull();
    expect(byTestId(root, 'node-join')).not.toBeNull();
  });
});

describe('EditPanel', () => {
  it('lists the tasks for a dependency and needs the id and command before adding a task', () => {
    const c = constellation({ a: task('a'), b: task('b') });
    const root = render(h(EditPanel, { constellation: c, onChanged: noop, onClose: noop }));
    const options = [...(byTestId(root, 'add-dep-from')?.querySelectorAll('option') ?? [])].map((o) => o.value);
    expect(options).toEqual(['', 'a', 'b']);
    expect(isDisabled(root, 'add-task-submit')).toBe(true);
    expect(root.textContent).toContain('against revision 3');
  });
});

describe('SubmitView', () => {
  it('is read-only for a viewer', () => {
    const root = render(h(SubmitView, { onSubmitted: noop }), VIEWER);
    expect(isDisabled(root, 'submit-button')).toBe(true);
    expect(isDisabled(root, 'plan-button')).toBe(true);
    expect(byTestId(root, 'submit-read-only')?.textContent).toContain('viewer role');
  });

  it('names the planner that produced a plan', () => {
    expect(describePlanner({ graph: {}, source: 'llm', planner: { kind: 'llm', model: 'qwen2.5' } })).toBe(
      'Planned by the language model qwen2.5.',
    );
    expect(describePlanner({ graph: {}, source: 'template', planner: { kind: 'builtin' } })).toBe(
      'Planned by the builtin planner.',
    );
    expect(describePlanner({ graph: {}, source: 'template' })).toBe('Planned by the template planner.');
  });
});

describe('PlanPreview', () => {
  it('draws the YAML in the editor as a DAG', () => {
    const source =
      'name: p\ntasks:\n  a: { run: echo a }\n  b: { run: echo b, needs: [a] }\n  c:\n    run: echo c\n    needs: { b: completion }\n';
    const root = render(h(PlanPreview, { source }));
    expect(byTestId(root, 'plan-preview')?.getAttribute('data-tasks')).toBe('3');
    expect(byTestId(root, 'node-a')).not.toBeNull();
    expect(byTestId(root, 'edge-b-c')?.getAttribute('class')).toContain('edge-completion');
  });

  it('says why it cannot draw text that does not parse', () => {
    const root = render(h(PlanPreview, { source: 'tasks: [unclosed' }));
    expect(byTestId(root, 'plan-preview')?.getAttribute('data-state')).toBe('error');
  });
});

describe('SourceEditor', () => {
  it('numbers the lines and marks each refused line with its messages', () => {
    const root = render(
      h(SourceEditor, {
        value: 'name: x\ntasks:\n  a:\n    needs: [b]\n',
        onChange: noop,
        onSubmitShortcut: noop,
        problems: [
          { code: 'GRAPH_DANGLING_DEPENDENCY', line: 4, message: 'task a needs b, which is not a task' },
          { code: 'GRAPH_SCHEMA', path: '/name' },
        ],
      }),
    );
    expect(root.querySelectorAll('.editor-gutter .gl')).toHaveLength(5);
    const marked = root.querySelectorAll('[data-testid="inline-error"]');
    expect(marked).toHaveLength(1);
    expect(marked[0]?.getAttribute('data-line')).toBe('4');
    expect(marked[0]?.textContent).toBe('GRAPH_DANGLING_DEPENDENCY: task a needs b, which is not a task');
    expect(root.querySelector('.gl.err')?.textContent).toBe('4');
  });

  it('draws no markers when there is nothing to mark', () => {
    const root = render(h(SourceEditor, { value: 'a\nb', onChange: noop, onSubmitShortcut: noop, problems: [] }));
    expect(root.querySelector('.editor-backdrop')).toBeNull();
    expect(root.querySelector('textarea')?.textContent).toBe('a\nb');
  });
});

describe('ProblemBox', () => {
  it('shows the code, the message and each problem with its path', () => {
    const err = new ApiError(422, {
      code: 'EDIT_CYCLE',
      title: 'dependency b -> d would close the cycle b -> d -> b',
      hint: 'Nothing was changed.',
      errors: [{ code: 'EDIT_CYCLE', path: '/operations/0', message: 'cycle' }],
    });
    const root = render(h(ProblemBox, { error: err }));
    expect(byTestId(root, 'error-code')?.textContent).toBe('EDIT_CYCLE');
    expect(root.textContent).toContain('b -> d -> b');
    expect(byTestId(root, 'error-item')?.textContent).toContain('/operations/0');
    expect(root.textContent).toContain('Nothing was changed.');
  });
});
