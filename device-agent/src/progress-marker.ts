// Progress markers in a task's stdout: a line `::progress <fraction|percent%> [message]`
// becomes a Progress message, e.g. `::progress 0.4 resizing` or `::progress 40% resizing`.
// Only the unfinished last line is carried between chunks, capped, so a flood
// of output without newlines costs nothing extra.

export interface ProgressUpdate {
  /** 0..1 */
  fraction: number;
  message: string;
}

const MARKER = '::progress';
const MAX_TAIL = 512;

export function parseProgressLine(line: string): ProgressUpdate | undefined {
  const l = line.replace(/\r$/, '');
  if (!l.startsWith(`${MARKER} `)) return undefined;
  const m = /^::progress\s+(\d+(?:\.\d+)?)(%?)(?:\s+(.*))?$/.exec(l);
  if (!m) return undefined;
  let fraction = Number(m[1]);
  if (m[2] === '%') fraction /= 100;
  if (!Number.isFinite(fraction)) return undefined;
  return { fraction: Math.min(1, Math.max(0, fraction)), message: m[3] ?? '' };
}

export function parseProgressLines(tail: string, chunk: Buffer): { updates: ProgressUpdate[]; tail: string } {
  const updates: ProgressUpdate[] = [];
  // Fast path: no marker in this chunk and no marker start pending.
  if (tail === '' && chunk.indexOf(MARKER) === -1) {
    return { updates, tail: lastLineTail(chunk) };
  }
  const text = tail + chunk.toString('utf8');
  const lines = text.split('\n');
  const rest = lines.pop() ?? '';
  for (const line of lines) {
    const u = parseProgressLine(line);
    if (u) updates.push(u);
  }
  return {
    updates,
    tail: rest.startsWith(MARKER.slice(0, Math.min(rest.length, MARKER.length))) ? rest.slice(0, MAX_TAIL) : '',
  };
}

/** The unfinished last line, kept only when it could still become a marker. */
function lastLineTail(chunk: Buffer): string {
  const nl = chunk.lastIndexOf(10);
  const start = nl + 1;
  if (start >= chunk.length) return '';
  const len = Math.min(chunk.length - start, MARKER.length);
  const head = chunk.toString('utf8', start, start + len);
  return MARKER.startsWith(head) ? chunk.toString('utf8', start, Math.min(chunk.length, start + MAX_TAIL)) : '';
}

/** Progress messages are short status lines; longer ones are cut (they bypass the log cap). */
export const MAX_PROGRESS_MESSAGE = 256;
/** At most one Progress message per this interval per attempt; the latest update wins. */
export const PROGRESS_INTERVAL_MS = 500;

/**
 * Rate-limits an attempt's progress updates: one goes out at once, later ones
 * within the interval collapse into the latest, sent when the interval ends.
 * Markers cost nothing against maxLogBytes, so without this a task printing
 * `::progress` in a loop would flood the orchestrator.
 */
export class ProgressThrottle {
  private last = Number.NEGATIVE_INFINITY;
  private pending: ProgressUpdate | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (u: ProgressUpdate) => void,
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  push(update: ProgressUpdate): void {
    const u = { fraction: update.fraction, message: update.message.slice(0, MAX_PROGRESS_MESSAGE) };
    const now = Date.now();
    if (!this.timer && now - this.last >= this.intervalMs) {
      this.last = now;
      this.send(u);
      return;
    }
    this.pending = u;
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.intervalMs - (now - this.last)));
  }

  private flush(): void {
    this.timer = undefined;
    const u = this.pending;
    this.pending = undefined;
    if (!u) return;
    this.last = Date.now();
    this.send(u);
  }

  /** The attempt ended: the latest pending update goes out now (before the Result), nothing after. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
    this.push = () => {};
  }
}
