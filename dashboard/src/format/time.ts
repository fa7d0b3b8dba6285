// Human-friendly times and durations for tables and tooltips.

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

/** "3 s ago" style age of a timestamp relative to now. */
export function formatAge(at: number | null | undefined, now: number): string {
  if (at === null || at === undefined || !Number.isFinite(at)) return '–';
  const ms = Math.max(0, now - at);
  if (ms < 1000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

export function formatClock(at: number | null | undefined): string {
  if (at === null || at === undefined || !Number.isFinite(at)) return '–';
  const d = new Date(at);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDateTime(at: number | null | undefined): string {
  if (at === null || at === undefined || !Number.isFinite(at)) return '–';
  const d = new Date(at);
  return `${d.toLocaleDateString()} ${formatClock(at).slice(0, 8)}`;
}
