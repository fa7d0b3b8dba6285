import type { ApiError } from '../api/api-error.js';

interface Props {
  error: ApiError;
  /** Called with a 1-based line number when the user clicks an error that has one. */
  onGoToLine?: (line: number) => void;
  /** Which answer this is (tests wait for a new one). */
  seq?: number;
}

/** A problem+json answer, shown so its stable code, path and line are easy to act on. */
export function ProblemBox({ error, onGoToLine, seq }: Props) {
  const p = error.problem;
  const items = error.items;
  return (
    <div className="problem" data-testid="error-box" data-seq={seq} role="alert">
      <div className="problem-head">
        <code className="problem-code" data-testid="error-code">
          {error.code}
        </code>
        <span className="problem-title">{p.title ?? 'Request failed'}</span>
        {error.status > 0 && <span className="muted">HTTP {error.status}</span>}
      </div>
      {p.detail && <div className="problem-detail">{p.detail}</div>}
      {p.hint && <div className="problem-hint muted">{p.hint}</div>}
      {items.length > 0 && (
        <ul className="problem-items">
          {items.map((it, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: the list is replaced whole, never reordered
            <li key={i} data-testid="error-item">
              <code className="problem-code small">{it.code ?? error.code}</code>
              {it.path && <code className="problem-path">{it.path}</code>}
              {typeof it.line === 'number' &&
                (onGoToLine ? (
                  <button type="button" className="link" onClick={() => onGoToLine(it.line as number)}>
                    line {it.line}
                    {typeof it.column === 'number' ? `:${it.column}` : ''}
                  </button>
                ) : (
                  <span className="muted">line {it.line}</span>
                ))}
              {it.message && <span className="problem-msg">{it.message}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
