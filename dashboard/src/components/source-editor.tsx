import { forwardRef, useRef } from 'react';
import type { ProblemItem } from '../api/types.js';

/** Above this many lines the gutter and markers are left out (a div per line would cost more than it helps). */
const MAX_MARKED_LINES = 5000;

interface Props {
  value: string;
  onChange: (text: string) => void;
  onSubmitShortcut: () => void;
  /** Problems of the last refused submission, shown at their lines while the text is unchanged. */
  problems: readonly ProblemItem[];
}

/** Messages per 1-based line. */
export function problemsByLine(problems: readonly ProblemItem[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const p of problems) {
    if (typeof p.line !== 'number') continue;
    const text = [p.code, p.message].filter(Boolean).join(': ');
    out.set(p.line, [...(out.get(p.line) ?? []), text]);
  }
  return out;
}

/**
 * The graph source: a plain textarea (so paste, undo and IME work as usual)
 * with line numbers, and the lines the server refused marked in the gutter
 * and behind the text, each with its message.
 */
export const SourceEditor = forwardRef<HTMLTextAreaElement, Props>(function SourceEditor(
  { value, onChange, onSubmitShortcut, problems },
  ref,
) {
  const gutterRef = useRef<HTMLDivElement>(null);
  const backdropRef = useRef<HTMLDivElement>(null);
  const lines = value.split('\n');
  const marked = lines.length <= MAX_MARKED_LINES;
  const byLine = problemsByLine(problems);
  // 1-based line numbers, which are also the rows' keys (a row is its line).
  const numbered = lines.map((text, i) => ({ n: i + 1, text }));
  return (
    <div className={marked ? 'editor' : 'editor plain'}>
      {marked && (
        <div className="editor-gutter" ref={gutterRef} aria-hidden="true">
          {numbered.map(({ n }) => {
            const msgs = byLine.get(n);
            return (
              <div key={n} className={msgs ? 'gl err' : 'gl'} title={msgs?.join('\n')} data-line={msgs ? n : undefined}>
                {n}
              </div>
            );
          })}
        </div>
      )}
      <div className="editor-area">
        {marked && byLine.size > 0 && (
          <div className="editor-backdrop" ref={backdropRef} aria-hidden="true">
            {numbered.map(({ n, text: line }) => {
              const msgs = byLine.get(n);
              return (
                <div key={n} className={msgs ? 'bl err' : 'bl'}>
                  <span className="bl-text">{line || ' '}</span>
                  {msgs && (
                    <span className="bl-msg" data-testid="inline-error" data-line={n}>
                      {msgs.join(' · ')}
                    </span>
                  )}
                </div>
              );
            })}
          </div>
        )}
        <textarea
          ref={ref}
          className="source"
          value={value}
          wrap="off"
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => {
            const t = e.currentTarget;
            if (gutterRef.current) gutterRef.current.scrollTop = t.scrollTop;
            if (backdropRef.current) {
              backdropRef.current.style.transform = `translate(${-t.scrollLeft}px, ${-t.scrollTop}px)`;
            }
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) onSubmitShortcut();
          }}
          data-testid="submit-source"
          aria-label="Graph source (YAML or JSON)"
        />
      </div>
    </div>
  );
});
