import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { api } from '../api/client.js';
import {
  appendLog,
  emptyLogBuffer,
  type LogBuffer,
  type LogChunk,
  logFromText,
  unseenChunks,
} from '../format/log-buffer.js';
import { useHubEvent } from '../state/use-hub.js';

interface Props {
  constellationId: string;
  taskId: string;
  /** Attempt to show; undefined before the first attempt exists. */
  attempt: number | undefined;
}

/**
 * Logs of one attempt: the stored text first (GET .../logs), then live `log`
 * events appended. Events that arrive while the fetch is in flight may or may
 * not be in its text, so they are held and only the unseen ones appended. The
 * buffer is capped so the DOM stays small.
 */
export function LogView({ constellationId, taskId, attempt }: Props) {
  const [buf, setBuf] = useState<LogBuffer>(emptyLogBuffer);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  // Chunks streamed while the stored text is being fetched; null once it arrived.
  const pending = useRef<LogChunk[] | null>(null);
  const preRef = useRef<HTMLPreElement>(null);

  useEffect(() => {
    let cancelled = false;
    pending.current = [];
    setBuf(emptyLogBuffer);
    setError(null);
    setFollow(true);
    if (attempt === undefined) return;
    const settle = (text: string) => {
      let next = logFromText(text);
      for (const c of unseenChunks(text, pending.current ?? [])) next = appendLog(next, c);
      pending.current = null;
      setBuf(next);
    };
    api
      .taskLogs(constellationId, taskId, attempt)
      .then((text) => {
        if (!cancelled) settle(text);
      })
      .catch((err: Error) => {
        if (cancelled) return;
        setError(err.message);
        settle(''); // still show what streams in
      });
    return () => {
      cancelled = true;
    };
  }, [constellationId, taskId, attempt]);

  useHubEvent('log', (ev) => {
    if (ev.constellationId !== constellationId || ev.taskId !== taskId || ev.attempt !== attempt) return;
    const chunk = { stream: ev.stream, text: ev.text };
    if (pending.current) pending.current.push(chunk);
    else setBuf((b) => appendLog(b, chunk));
  });

  // Keep the newest line in view unless the user scrolled up to read.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the text grows
  useLayoutEffect(() => {
    const el = preRef.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [buf, follow]);

  const onScroll = () => {
    const el = preRef.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    if (atBottom !== follow) setFollow(atBottom);
  };

  return (
    <div className="logs">
      {error && <div className="logs-error">Could not load logs: {error}</div>}
      <pre ref={preRef} className="logs-pre" data-testid="task-logs" onScroll={onScroll}>
        {buf.dropped > 0 && (
          <span className="log-system">
            … {buf.dropped.toLocaleString()} earlier characters not shown …{'\n'}
          </span>
        )}
        {buf.chunks.map((c, i) => (
          // Chunks only ever get appended or trimmed at the front; the index is stable enough here.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above
          <span key={i} className={`log-${c.stream}`}>
            {c.text}
          </span>
        ))}
        {attempt === undefined && <span className="log-system">No attempt yet.</span>}
        {attempt !== undefined && buf.size === 0 && !error && <span className="log-system">No output yet.</span>}
      </pre>
      {!follow && (
        <button type="button" className="logs-follow" onClick={() => setFollow(true)}>
          ↓ follow
        </button>
      )}
    </div>
  );
}
