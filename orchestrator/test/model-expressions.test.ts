// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the template syntax under test
import { describe, expect, it } from 'vitest';
import {
  ConditionSyntaxError,
  conditionReferences,
  evaluateCondition,
  listReferences,
  parseCondition,
  resolveTemplate,
  type TemplateContext,
  TemplateError,
} from '../src/model/index.js';

const ctx: TemplateContext = {
  inputs: { version: '1.2.3', empty: '' },
  tasks: {
    build: { status: 'succeeded', outputs: { artifact: 'app.tgz', score: '0.95', count: '10', flag: 'false' } },
    lint: { status: 'succeeded', outputs: {} },
    test: { status: 'failed', outputs: { score: '9' } },
    'deploy-eu': { status: 'skipped', outputs: {} },
  },
};

describe('templates', () => {
  it('resolves inputs, outputs and status', () => {
    expect(
      resolveTemplate('v=${{ inputs.version }} a=${{tasks.build.outputs.artifact}} s=${{ tasks.test.status }}', ctx),
    ).toBe('v=1.2.3 a=app.tgz s=failed');
    expect(resolveTemplate('${{ tasks.deploy-eu.status }}', ctx)).toBe('skipped');
    expect(resolveTemplate('plain text, no braces', ctx)).toBe('plain text, no braces');
    expect(resolveTemplate('${{ inputs.empty }}|', ctx)).toBe('|');
  });

  it('throws TemplateError for missing values unless asked for empty', () => {
    expect(() => resolveTemplate('${{ tasks.lint.outputs.nothing }}', ctx)).toThrow(TemplateError);
    expect(() => resolveTemplate('${{ inputs.zzz }}', ctx)).toThrow(/no value for inputs.zzz/);
    expect(resolveTemplate('[${{ inputs.zzz }}]', ctx, { missing: 'empty' })).toBe('[]');
    expect(() => resolveTemplate('${{ 1 + 1 }}', ctx)).toThrow(/unsupported expression/);
    expect(() => resolveTemplate('${{ inputs.version', ctx)).toThrow(/unterminated/);
  });

  it('lists references', () => {
    expect(listReferences('${{ inputs.a }} ${{ tasks.b.outputs.c }} ${{ tasks.d.status }} ${{ bad }}')).toEqual([
      { kind: 'input', name: 'a' },
      { kind: 'output', task: 'b', name: 'c' },
      { kind: 'status', task: 'd' },
    ]);
    expect(listReferences('none')).toEqual([]);
  });

  it('does not read inherited properties', () => {
    expect(() => resolveTemplate('${{ inputs.constructor }}', ctx)).toThrow(TemplateError);
  });
});

describe('conditions', () => {
  const yes = (src: string) => expect(evaluateCondition(src, ctx), src).toBe(true);
  const no = (src: string) => expect(evaluateCondition(src, ctx), src).toBe(false);

  it('compares numbers numerically and strings as strings', () => {
    yes('tasks.build.outputs.score >= 0.9');
    no('tasks.build.outputs.score > 1');
    yes('tasks.build.outputs.count > 9'); // "10" > 9 numerically, not "10" < "9"
    yes('tasks.build.outputs.count == 10.0');
    yes("tasks.build.outputs.artifact == 'app.tgz'");
    yes('tasks.build.outputs.artifact != "other"');
    yes("'abc' < 'abd'");
    yes('-1 < 0');
  });

  it('combines with && || ! and parentheses, with precedence', () => {
    yes("tasks.build.outputs.score >= 0.9 && tasks.lint.status == 'succeeded'");
    no("tasks.test.status == 'succeeded' || tasks.lint.status == 'failed'");
    yes("!(tasks.test.status == 'succeeded')");
    yes('true || false && false');
    no('(true || false) && false');
    yes('!false && !tasks.build.outputs.flag');
  });

  it('treats missing values as null', () => {
    no('tasks.lint.outputs.missing > 0');
    no('tasks.lint.outputs.missing < 0');
    yes('tasks.lint.outputs.missing == null');
    no('tasks.lint.outputs.missing');
    yes('tasks.nobody.status == null');
  });

  it('accepts a ${{ }} wrapper', () => {
    yes("${{ tasks.lint.status == 'succeeded' }}");
  });

  it('rejects syntax errors with a position', () => {
    for (const bad of [
      'tasks.a.status ==',
      '(true',
      'a == b',
      'tasks.a.status == "x',
      'tasks.a.status = 1',
      '1 < 2 < 3',
      '',
      'true false',
      'tasks.a.outputs',
      'process.exit()',
    ]) {
      expect(() => parseCondition(bad), bad).toThrow(ConditionSyntaxError);
    }
    try {
      parseCondition('true && (false');
    } catch (e) {
      expect((e as ConditionSyntaxError).position).toBe(14);
      expect((e as ConditionSyntaxError).code).toBe('GRAPH_INVALID_CONDITION');
    }
  });

  it('lists the references of a condition', () => {
    expect(
      conditionReferences(parseCondition("tasks.a.outputs.x > 1 && (inputs.y == 'z' || !tasks.b.status)")),
    ).toEqual([
      { kind: 'output', task: 'a', name: 'x' },
      { kind: 'input', name: 'y' },
      { kind: 'status', task: 'b' },
    ]);
  });
});
