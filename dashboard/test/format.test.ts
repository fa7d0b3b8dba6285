import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseProblem } from '../src/api/api-error.js';
import { appendLog, emptyLogBuffer, logFromText, unseenChunks } from '../src/format/log-buffer.js';
import { formatAge, formatDuration } from '../src/format/time.js';
import { toYaml } from '../src/format/to-yaml.js';

describe('toYaml', () => {
  it('round-trips a planned graph through a real YAML parser', () => {
    const graph = {
      name: 'planned build',
      description: 'a: b # not a comment',
      inputs: { version: '1.0', flag: 'true', empty: '', num: '42' },
      tasks: {
        build: {
          run: 'make -j4\nmake install\n',
          target: { labels: ['linux', 'x64'] },
          retries: 2,
          timeout: '10m',
        },
        test: {
          run: 'npm test -- --grep "a: b"',
          needs: ['build', { task: 'lint', kind: 'completion' }],
        },
        'odd key': {
          run: '  leading spaces',
          env: {},
          list: [],
          nothing: null,
          yes: true,
        },
      },
      list: [[1, 2], { a: { b: [] } }, '- dash', '#hash', 'x\ty'],
    };
    const text = toYaml(graph);
    expect(parse(text)).toEqual(graph);
    expect(text).toContain('run: |');
  });
});

describe('toYaml layout', () => {
  it('writes the conventional block style', () => {
    const text = toYaml({
      name: 'demo',
      tasks: { build: { run: 'make' }, test: { run: 'make test', needs: ['build'] } },
      list: [{ a: 1, b: 'x' }],
    });
    expect(text).toBe(
      [
        'name: demo',
        'tasks:',
        '  build:',
        '    run: make',
        '  test:',
        '    run: make test',
        '    needs:',
        '      - build',
        'list:',
        '  - a: 1',
        '    b: x',
        '',
      ].join('\n'),
    );
  });
});

describe('log buffer', () => {
  it('merges chunks of one stream and keeps streams apart', () => {
    let b = appendLog(emptyLogBuffer, { stream: 'stdout', text: 'a\n' });
    b = appendLog(b, { stream: 'stdout', text: 'b\n' });
    b = appendLog(b, { stream: 'stderr', text: 'oops\n' });
    expect(b.chunks).toEqual([
      { stream: 'stdout', text: 'a\nb\n' },
      { stream: 'stderr', text: 'oops\n' },
    ]);
    expect(b.size).toBe(9);
  });

  it('drops the oldest whole lines past the cap', () => {
    let b = logFromText('', 20);
    for (let i = 0; i < 10; i++) b = appendLog(b, { stream: i % 2 ? 'stderr' : 'stdout', text: `line ${i}\n` }, 20);
    const text = b.chunks.map((c) => c.text).join('');
    expect(text.length).toBeLessThanOrEqual(20);
    expect(text.endsWith('line 9\n')).toBe(true);
    expect(text.startsWith('line ')).toBe(true);
    expect(b.dropped + b.size).toBe(70);
  });
});

describe('unseenChunks', () => {
  const out = (text: string) => ({ stream: 'stdout' as const, text });

  it('drops the chunks the fetched text already holds and keeps the rest', () => {
    const streamed = [out('b\n'), out('c\n'), out('d\n')];
    expect(unseenChunks('a\nb\nc\n', streamed)).toEqual([out('d\n')]);
    expect(unseenChunks('a\nb\nc\nd\n', streamed)).toEqual([]);
  });

  it('keeps everything when the fetch was older than every chunk', () => {
    expect(unseenChunks('a\n', [out('b\n')])).toEqual([out('b\n')]);
    expect(unseenChunks('', [out('b\n')])).toEqual([out('b\n')]);
  });
});

describe('parseProblem', () => {
  it('keeps problem+json fields', () => {
    const p = parseProblem(
      422,
      JSON.stringify({
        code: 'GRAPH_CYCLE',
        title: 'cycle',
        errors: [{ path: '/tasks/a', line: 3 }],
      }),
    );
    expect(p.code).toBe('GRAPH_CYCLE');
    expect(p.errors?.[0]?.line).toBe(3);
    expect(p.status).toBe(422);
  });

  it('tolerates a non-JSON error page', () => {
    const p = parseProblem(502, '<html>bad gateway</html>');
    expect(p.status).toBe(502);
    expect(p.detail).toContain('bad gateway');
  });
});

describe('time formatting', () => {
  it('reads well', () => {
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(2500)).toBe('2.5 s');
    expect(formatDuration(125_000)).toBe('2m 5s');
    expect(formatAge(1000, 4000)).toBe('3.0 s ago');
    expect(formatAge(undefined, 4000)).toBe('–');
  });
});
