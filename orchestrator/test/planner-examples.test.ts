// examples/: every graph passes the real normaliser, and every sentence
// (examples/<name>.sentence) is planned by the built-in planner into a graph
// equivalent to its YAML against the reference fleet (examples/fleet.json).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normaliseGraph, parseGraph } from '../src/graph/index.js';
import type { GraphSpec } from '../src/model/types.js';
import { type DeviceProfile, planFromSentence } from '../src/planner/index.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const files = readdirSync(EXAMPLES);
const yamls = files.filter((f) => f.endsWith('.yaml'));
const sentences = files.filter((f) => f.endsWith('.sentence')).map((f) => f.replace(/\.sentence$/, ''));

const fleet: DeviceProfile[] = (
  JSON.parse(readFileSync(join(EXAMPLES, 'fleet.json'), 'utf8')) as {
    devices: Array<Pick<DeviceProfile, 'name' | 'labels' | 'os' | 'arch'>>;
  }
).devices.map((d) => ({
  id: `id-${d.name}`,
  status: 'online',
  features: [],
  executors: ['shell'],
  cpus: 4,
  memoryMb: 8192,
  gpus: 0,
  slots: 2,
  ...d,
}));

/** What "equivalent" means: same tasks, commands, targets, dependencies, outputs, artifacts, retries and timeouts. */
function essence(spec: GraphSpec): unknown {
  return {
    name: spec.name,
    tasks: spec.tasks.map((t) => ({
      id: t.id,
      command: t.executor.command,
      target: t.target,
      outputs: t.outputs,
      artifacts: t.artifacts,
      artifactInputs: t.artifactInputs,
      retries: t.retry.max,
      timeoutMs: t.timeoutMs,
    })),
    dependencies: spec.dependencies
      .map((d) => `${d.from} -> ${d.to} (${d.kind}${d.condition ? `: ${d.condition}` : ''})`)
      .sort(),
  };
}

describe('examples', () => {
  it('has the quick-start examples and at least ten cross-device graphs with sentences', () => {
    expect(yamls).toEqual(expect.arrayContaining(['hello.yaml', 'failure-handling.yaml', 'release-check.yaml']));
    expect(sentences.length).toBeGreaterThanOrEqual(10);
    for (const name of sentences) expect(yamls).toContain(`${name}.yaml`);
  });

  it.each(yamls)('%s passes the real normaliser', (file) => {
    const spec = parseGraph(readFileSync(join(EXAMPLES, file), 'utf8'), { filename: file });
    expect(spec.tasks.length).toBeGreaterThan(0);
  });

  it.each(sentences)('%s.sentence plans a graph equivalent to %s.yaml', (name) => {
    const sentence = readFileSync(join(EXAMPLES, `${name}.sentence`), 'utf8').trim();
    const planned = planFromSentence(sentence, fleet);
    expect(planned.warnings).toEqual([]);
    const fromYaml = parseGraph(readFileSync(join(EXAMPLES, `${name}.yaml`), 'utf8'), { filename: `${name}.yaml` });
    expect(essence(normaliseGraph(planned.graph))).toEqual(essence(fromYaml));
    // Cross-device: every example spans at least two devices.
    const targets = new Set(fromYaml.tasks.map((t) => JSON.stringify(t.target)));
    expect(targets.size).toBeGreaterThanOrEqual(2);
  });

  it('the README shows every sentence as it is', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    for (const name of sentences)
      expect(readme).toContain(readFileSync(join(EXAMPLES, `${name}.sentence`), 'utf8').trim());
  });
});
