// Artifacts in the graph format, in edits, in the journal and in the Assign:
// references checked with stable codes and paths, the implied data
// dependency, digests kept across replay, and resolved for the consumer.
import { describe, expect, it } from 'vitest';
import { artifactAssignFields } from '../src/artifacts/assign-artifacts.js';
import { EngineState } from '../src/engine/engine-state.js';
import { ARTIFACTS_CAPABILITY, toSchedTask } from '../src/engine/sched-mapping.js';
import { Scheduler } from '../src/scheduler/index.js';
import { dev } from './support/sched-fixtures.js';
import { GraphError, parseGraph } from '../src/graph/index.js';
import { applyEdit, type Constellation, type TaskSpec } from '../src/model/index.js';

const GRAPH = `
name: art
tasks:
  make:
    run: make
    artifacts:
      bundle: dist/*.tgz
  use:
    run: tar xzf in/b.tgz
    artifactInputs:
      in/b.tgz: tasks.make.artifacts.bundle
  other:
    run: "true"
`;

function issues(yaml: string) {
  try {
    parseGraph(yaml, { filename: 'g.yaml' });
  } catch (e) {
    if (e instanceof GraphError) return e.issues.map((i) => ({ code: i.code, path: i.path, line: i.line }));
    throw e;
  }
  throw new Error('the graph was accepted');
}

describe('graph format', () => {
  it('reads artifacts and artifact inputs, and a reference implies a success dependency', () => {
    const spec = parseGraph(GRAPH);
    const make = spec.tasks.find((t) => t.id === 'make') as TaskSpec;
    const use = spec.tasks.find((t) => t.id === 'use') as TaskSpec;
    expect(make.artifacts).toEqual({ bundle: 'dist/*.tgz' });
    expect(use.artifactInputs).toEqual({ 'in/b.tgz': { task: 'make', artifact: 'bundle' } });
    expect(spec.dependencies).toEqual([{ from: 'make', to: 'use', kind: 'success' }]);
  });

  it('does not add an edge a task already lists in needs, whatever its kind', () => {
    const spec = parseGraph(
      GRAPH.replace('    run: tar xzf in/b.tgz', '    run: tar xzf in/b.tgz\n    needs: { make: completion }'),
    );
    expect(spec.dependencies).toEqual([{ from: 'make', to: 'use', kind: 'completion' }]);
  });

  it('accepts the ${{ }} form of a reference', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the template syntax under test
    const spec = parseGraph(GRAPH.replace('tasks.make.artifacts.bundle', '"${{ tasks.make.artifacts.bundle }}"'));
    expect(spec.tasks.find((t) => t.id === 'use')?.artifactInputs).toEqual({
      'in/b.tgz': { task: 'make', artifact: 'bundle' },
    });
  });

  it('reports unknown tasks and artifacts, malformed references and unsafe paths, each at its path and line', () => {
    const bad = `${GRAPH}
  bad:
    run: x
    artifacts:
      abs: /etc/passwd
    artifactInputs:
      a: tasks.ghost.artifacts.bundle
      b: tasks.make.artifacts.nope
      c: tasks.make.outputs.bundle
      ../d: tasks.make.artifacts.bundle
      e: tasks.bad.artifacts.abs
`;
    expect(issues(bad)).toEqual([
      { code: 'GRAPH_SCHEMA', path: '/tasks/bad/artifacts/abs', line: 18 },
      { code: 'GRAPH_UNKNOWN_REFERENCE', path: '/tasks/bad/artifactInputs/a', line: 20 },
      { code: 'GRAPH_UNKNOWN_REFERENCE', path: '/tasks/bad/artifactInputs/b', line: 21 },
      { code: 'GRAPH_SCHEMA', path: '/tasks/bad/artifactInputs/c', line: 22 },
      { code: 'GRAPH_SCHEMA', path: '/tasks/bad/artifactInputs/..~1d', line: 23 },
      { code: 'GRAPH_UNKNOWN_REFERENCE', path: '/tasks/bad/artifactInputs/e', line: 24 },
    ]);
  });

  it('names a cycle made by artifact references at the artifact input', () => {
    const cyclic = `
name: c
tasks:
  a:
    run: x
    artifacts: { f: f }
    artifactInputs: { g: tasks.b.artifacts.f }
  b:
    run: y
    artifacts: { f: f }
    artifactInputs: { g: tasks.a.artifacts.f }
`;
    expect(issues(cyclic)).toEqual([{ code: 'GRAPH_CYCLE', path: '/tasks/a/artifactInputs/g', line: 7 }]);
  });
});

function submitted(): { state: EngineState; c: Constellation } {
  const state = new EngineState();
  state.applyEvent({
    type: 'constellation.submitted',
    at: 1000,
    data: { id: 'c1', owner: 'o', spec: parseGraph(GRAPH) },
  });
  return { state, c: state.constellations.get('c1') as Constellation };
}

const DIGEST = 'ab'.repeat(32);

describe('artifacts in the journal and the Assign', () => {
  it('records the digests of a succeeded attempt, keeps them across replay, and resolves them for the consumer', () => {
    const { state, c } = submitted();
    expect(() => artifactAssignFields(c, c.tasks.use!)).toThrow(
      /^ARTIFACT_MISSING: .*task make has not stored \(it is ready\)/,
    );
    state.applyEvent({
      type: 'task.assigned',
      at: 1100,
      data: { id: 'c1', taskId: 'make', attempt: 1, deviceId: 'd1', placement: '' },
    });
    state.applyEvent({
      type: 'task.finished',
      at: 1200,
      data: {
        id: 'c1',
        taskId: 'make',
        attempt: 1,
        outcome: 'succeeded',
        outputs: {},
        artifacts: { bundle: { digest: DIGEST, size: 42 } },
        endedAt: 1200,
        jitter: 0,
      },
    });
    expect(c.tasks.make?.artifacts).toEqual({ bundle: { digest: DIGEST, size: 42 } });
    expect(c.tasks.use?.status).toBe('ready');
    const restored = EngineState.restore(JSON.parse(JSON.stringify(state.serialize())));
    const rc = restored.constellations.get('c1') as Constellation;
    expect(rc.tasks.make?.artifacts).toEqual({ bundle: { digest: DIGEST, size: 42 } });
    expect(artifactAssignFields(rc, rc.tasks.use!)).toEqual({
      artifactInputs: [{ path: 'in/b.tgz', digest: DIGEST, size: 42, source: 'make.bundle' }],
    });
    expect(artifactAssignFields(rc, rc.tasks.make!)).toEqual({
      artifactOutputs: [{ name: 'bundle', path: 'dist/*.tgz' }],
    });
  });
});

describe('artifact inputs in edits', () => {
  const spec = (id: string, extra: Partial<TaskSpec>): TaskSpec => ({
    id,
    name: id,
    target: {},
    executor: { kind: 'shell', command: 'true' },
    inputs: {},
    outputs: {},
    priority: 0,
    retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60000, multiplier: 2 },
    ...extra,
  });

  it('accepts an added task reading an upstream artifact, and rejects one that is unknown or not upstream', () => {
    const { c } = submitted();
    const add = (task: TaskSpec, needs?: Array<{ from: string }>) =>
      applyEdit(c, { revision: c.revision, operations: [{ op: 'add_task', task, ...(needs ? { needs } : {}) }] }, 2000);
    const notUpstream = add(spec('late', { artifactInputs: { x: { task: 'make', artifact: 'bundle' } } }));
    expect(notUpstream.ok ? '' : notUpstream.error.code).toBe('EDIT_UNKNOWN_REFERENCE');
    expect(notUpstream.ok ? '' : notUpstream.error.message).toMatch(
      /tasks\.make\.artifacts\.bundle: task "make" is not upstream/,
    );
    const unknown = add(spec('late', { artifactInputs: { x: { task: 'make', artifact: 'nope' } } }), [
      { from: 'make' },
    ]);
    expect(unknown.ok ? '' : unknown.error.message).toMatch(/task "make" declares no artifact "nope"/);
    const ok = add(spec('late', { artifactInputs: { x: { task: 'make', artifact: 'bundle' } } }), [{ from: 'make' }]);
    expect(ok.ok).toBe(true);
  });
});

describe('placement near the bytes', () => {
  it('prefers a device that already holds the input artifacts (less to transfer)', () => {
    const { state, c } = submitted();
    const size = 200 * 1024 * 1024;
    state.applyEvent({
      type: 'task.assigned',
      at: 1100,
      data: { id: 'c1', taskId: 'make', attempt: 1, deviceId: 'maker', placement: '' },
    });
    state.applyEvent({
      type: 'task.finished',
      at: 1200,
      data: {
        id: 'c1',
        taskId: 'make',
        attempt: 1,
        outcome: 'succeeded',
        outputs: {},
        artifacts: { bundle: { digest: DIGEST, size } },
        endedAt: 1200,
        jitter: 0,
      },
    });
    // The producer holds it; another device fetched it earlier (the orchestrator saw that).
    const task = toSchedTask(c, c.tasks.use!, 1300, undefined, [], (d) => (d === DIGEST ? ['fetched-it'] : undefined));
    expect(task.inputBytes).toBe(size);
    expect(task.inputBytesByDevice).toEqual({ maker: size, 'fetched-it': size });

    // Three equal idle AIP 2 devices ('aaa' would win a tie by id): the bytes decide.
    const s = new Scheduler();
    for (const id of ['aaa', 'maker', 'zzz']) s.upsertDevice(dev(id, { features: [ARTIFACTS_CAPABILITY] }));
    s.enqueue(toSchedTask(c, c.tasks.use!, 1300));
    const [p] = s.schedule(1400);
    expect(p?.deviceId).toBe('maker');
    expect(p?.explanation.parts.transferMs).toBe(0);
  });
});
