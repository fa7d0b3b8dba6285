// The built-in planner: the controlled language, target resolution against
// connected devices, and the offline replanning rules.
import { describe, expect, it } from 'vitest';
import { normaliseGraph } from '../src/graph/index.js';
import { applyEdit, createConstellation } from '../src/model/index.js';
import type { Constellation } from '../src/model/types.js';
import {
  builtinReplan,
  checkEditBatch,
  type DeviceProfile,
  formatPlanTree,
  planFromSentence,
} from '../src/planner/index.js';

const device = (name: string, labels: string[], extra: Partial<DeviceProfile> = {}): DeviceProfile => ({
  id: `id-${name}`,
  name,
  status: 'online',
  labels,
  os: 'linux',
  arch: 'x86_64',
  features: [],
  executors: ['shell'],
  cpus: 4,
  memoryMb: 8192,
  gpus: 0,
  slots: 2,
  ...extra,
});

const fleet = [
  device('build-server', ['server', 'cpu']),
  device('pixel-7', ['phone'], { os: 'android' }),
  device('laptop', ['desk']),
];

const codeOf = (
  fn: () => unknown,
): { code?: string; message?: string; issues?: Array<{ message: string; column?: number }> } => {
  try {
    fn();
  } catch (err) {
    return err as { code: string };
  }
  throw new Error('expected an error');
};

describe('controlled language', () => {
  it('turns stages, parallel steps and finally into tasks and dependencies', () => {
    const { graph, planner, warnings } = planFromSentence(
      'release: on build-server as build (output artifact): make release; then in parallel on phone as ui: ./gradlew connectedCheck and on laptop as lint (retries 2, timeout 5m): npm run lint; finally on any as notify: echo done',
      fleet,
    );
    expect(planner).toEqual({ kind: 'builtin' });
    expect(warnings).toEqual([]);
    const spec = normaliseGraph(graph);
    expect(spec.name).toBe('release');
    const byId = Object.fromEntries(spec.tasks.map((t) => [t.id, t]));
    expect(Object.keys(byId)).toEqual(['build', 'ui', 'lint', 'notify']);
    expect(byId.build!.target).toEqual({ device: 'build-server' });
    expect(byId.build!.outputs).toEqual({ artifact: { from: 'stdout' } });
    expect(byId.ui!.target).toEqual({ labels: ['phone'] });
    expect(byId.ui!.executor.command).toBe('./gradlew connectedCheck');
    expect(byId.lint!.retry.max).toBe(2);
    expect(byId.lint!.timeoutMs).toBe(300_000);
    expect(byId.notify!.target).toEqual({});
    expect(spec.dependencies.map((d) => `${d.from}->${d.to}:${d.kind}`).sort()).toEqual([
      'build->lint:success',
      'build->ui:success',
      'lint->notify:completion',
      'ui->notify:completion',
    ]);
  });

  it('keeps "then" and "and" inside a command unless an "on <target>:" follows, and takes backticked commands literally', () => {
    const { graph } = planFromSentence(
      'on server: if test -f a; then echo rock and roll; fi; then on desk: `echo "then on laptop: nothing" and more`',
      fleet,
    );
    const tasks = graph.tasks as Record<string, { run: string; needs?: string[] }>;
    const runs = Object.values(tasks).map((t) => t.run);
    expect(runs).toEqual(['if test -f a; then echo rock and roll; fi', 'echo "then on laptop: nothing" and more']);
  });

  it('declares artifacts and artifact inputs, so files move between devices', () => {
    const { graph } = planFromSentence(
      'on build-server as build (artifact apk=app/build/outputs/apk/release/*.apk): ./gradlew assembleRelease; then on phone as install (input app.apk=build.apk, retries 1): adb install -r app.apk',
      fleet,
    );
    const spec = normaliseGraph(graph);
    const byId = Object.fromEntries(spec.tasks.map((t) => [t.id, t]));
    expect(byId.build!.artifacts).toEqual({ apk: 'app/build/outputs/apk/release/*.apk' });
    expect(byId.install!.artifactInputs).toEqual({ 'app.apk': { task: 'build', artifact: 'apk' } });
    expect(byId.install!.retry.max).toBe(1);
    expect(codeOf(() => planFromSentence('on a (artifact apk): x', [])).message).toMatch(
      /expected "=" and the file path after the artifact name/,
    );
    expect(codeOf(() => planFromSentence('on a as x: one; then on b (input f=x.nope): two', [])).code).toBe(
      'GRAPH_UNKNOWN_REFERENCE',
    );
  });

  it('derives ids from commands, numbering repeats, and honours "after"', () => {
    const { graph } = planFromSentence(
      'on server: make test and on desk: make test; then on laptop (after make-test-2): echo hi',
      fleet,
    );
    const tasks = graph.tasks as Record<string, { needs?: string[] }>;
    expect(Object.keys(tasks)).toEqual(['make-test', 'make-test-2', 'echo-hi']);
    expect(tasks['echo-hi']!.needs).toEqual(['make-test-2']);
  });

  it('says where a sentence breaks and what was expected', () => {
    const e = codeOf(() => planFromSentence('on server make release', fleet));
    expect(e.code).toBe('PLANNER_PARSE_ERROR');
    expect(e.message).toBe('at column 11: expected ":" after the target, found "make release"');
    expect(e.issues?.[0]?.column).toBe(11);
    expect(codeOf(() => planFromSentence('build the app then test it', fleet)).message).toMatch(
      /^at column 1: expected "on <device or label>: <command>"/,
    );
    expect(codeOf(() => planFromSentence('on a (retries many): x', [])).message).toMatch(
      /expected a number of retries/,
    );
    expect(codeOf(() => planFromSentence('on a: `x', [])).message).toMatch(/closing backtick/);
    expect(codeOf(() => planFromSentence('on a as x: one; then on b as x: two', [])).message).toMatch(
      /task id "x" is used twice/,
    );
    // Parsed, but not a valid graph: the graph format's own code, before any submit.
    expect(codeOf(() => planFromSentence('on a (after ghost): x', [])).code).toBe('GRAPH_DANGLING_DEPENDENCY');
    expect(
      codeOf(() => planFromSentence('on a as x: echo ${{ tasks.y.outputs.z }}; then on b as y (output z): two', []))
        .code,
    ).toBe('GRAPH_UNKNOWN_REFERENCE');
  });

  it('refuses unknown targets when devices are connected, listing the known ones', () => {
    const e = codeOf(() => planFromSentence('on server: make; then on jetson: ./infer', fleet));
    expect(e.code).toBe('PLANNER_UNKNOWN_TARGET');
    expect(e.message).toContain('at column 26');
    expect(e.message).toContain('devices: build-server, laptop, pixel-7; labels: cpu, desk, phone, server');
    expect(codeOf(() => planFromSentence('on label build-server: x', fleet)).code).toBe('PLANNER_UNKNOWN_TARGET');
    expect(codeOf(() => planFromSentence('on device server: x', fleet)).code).toBe('PLANNER_UNKNOWN_TARGET');
  });

  it('with no device connected, takes names as labels and warns', () => {
    const { graph, warnings } = planFromSentence('on jetson: ./infer; then on device laptop: echo ok', []);
    const tasks = graph.tasks as Record<string, { target: unknown }>;
    expect(tasks['infer']!.target).toEqual({ labels: ['jetson'] });
    expect(tasks['echo-ok']!.target).toEqual({ device: 'laptop' });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/no device is connected yet/);
  });

  it('prints a plan as a tree with targets, commands and extra upstreams', () => {
    const plan = planFromSentence(
      'on server as a: make; then on phone as b: t1 and on desk as c: t2; then on laptop as d: report',
      fleet,
    );
    const tree = formatPlanTree(plan);
    expect(tree).toContain('Plan "planned-a" by the built-in planner: 4 tasks');
    expect(tree).toMatch(/└─ a +on label server/);
    expect(tree).toMatch(/├─ b +on label phone/);
    expect(tree).toMatch(/└─ d +on device laptop +\(also after c\)/);
    expect(tree).toContain('$ report');
  });
});

describe('built-in replanning rules', () => {
  function failedRun(target: Record<string, unknown>, status: 'failed' | 'timed_out' = 'failed'): Constellation {
    const spec = normaliseGraph({
      name: 'r',
      tasks: { build: { run: 'make', target, timeout: '1m' }, ship: { run: 'ship', needs: ['build'] } },
    });
    const c = createConstellation(spec, { id: 'c1', owner: 't', now: 1 });
    const t = c.tasks.build!;
    t.status = status;
    t.attempts = [
      {
        number: 1,
        deviceId: 'id-build-server',
        assignedAt: 1,
        endedAt: 2,
        outcome: status,
        exitCode: 2,
        error: 'exit 2',
      },
    ];
    c.tasks.ship!.status = 'skipped';
    c.tasks.ship!.skippedBy = 'dependency';
    c.tasks.ship!.skipCause = 'build';
    c.status = 'failed';
    return c;
  }
  const devices = [
    device('build-server', ['cpu']),
    device('other-box', ['cpu']),
    device('phone', ['phone'], { os: 'android' }),
  ];

  it('retries on another online device that matches the target, and the batch applies', () => {
    const c = failedRun({ labels: ['cpu'] });
    const r = builtinReplan({
      constellationId: 'c1',
      revision: 1,
      state: c,
      devices,
      failure: { taskId: 'build', status: 'failed', logTail: '' },
    });
    expect(r.operations.map((o) => o.op)).toEqual(['retry_task', 'update_task']);
    const upd = r.operations[1] as { task: { target: unknown } };
    expect(upd.task.target).toEqual({ labels: ['cpu'], device: 'other-box' });
    expect(r.comment).toMatch(/retry build on other-box: it failed on build-server/);
    expect(checkEditBatch(c, r.operations, devices)).toEqual([]);
    const applied = applyEdit(c, { revision: 1, operations: r.operations }, 3);
    expect(applied.ok).toBe(true);
    expect(c.tasks.build!.status).toBe('ready');
    expect(c.tasks.ship!.status).toBe('pending');
  });

  it('doubles the timeout of a timed-out task when no other device matches', () => {
    const c = failedRun({ labels: ['cpu'], device: 'build-server' }, 'timed_out');
    const r = builtinReplan({
      constellationId: 'c1',
      revision: 1,
      state: c,
      devices: devices.filter((d) => d.name !== 'other-box'),
    });
    expect((r.operations[1] as { task: { timeoutMs: number } }).task.timeoutMs).toBe(120_000);
  });

  it('follows a hint written in the controlled language', () => {
    const c = failedRun({ labels: ['cpu'] });
    const r = builtinReplan({ constellationId: 'c1', revision: 1, state: c, devices, hint: 'on phone: make -j1' });
    const upd = r.operations[1] as { task: { target: unknown; executor: { command: string } } };
    expect(upd.task.target).toEqual({ device: 'phone' });
    expect(upd.task.executor.command).toBe('make -j1');
  });

  it('proposes nothing, saying why, when no other device matches', () => {
    const c = failedRun({ labels: ['cpu'] });
    const r = builtinReplan({
      constellationId: 'c1',
      revision: 1,
      state: c,
      devices: devices.filter((d) => d.name !== 'other-box'),
    });
    expect(r.operations).toEqual([]);
    expect(r.comment).toMatch(/no other online device matches/);
  });
});
