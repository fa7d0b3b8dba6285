// Log text kept for the drawer: chunks merged by stream and capped in size,
// so a chatty task cannot grow the DOM without bound.

import type { LogStream } from '../api/types.js';

export interface LogChunk {
  stream: LogStream;
  text: string;
}

export interface LogBuffer {
  chunks: LogChunk[];
  /** Characters currently held. */
  size: number;
  /** Characters dropped from the front to respect the cap. */
  dropped: number;
}

export const DEFAULT_LOG_CAP = 200_000;
const MAX_CHUNKS = 2_000;

export const emptyLogBuffer: LogBuffer = { chunks: [], size: 0, dropped: 0 };

export function appendLog(buf: LogBuffer, chunk: LogChunk, cap = DEFAULT_LOG_CAP): LogBuffer {
  if (chunk.text === '') return buf;
  const chunks = buf.chunks.slice();
  const last = chunks[chunks.length - 1];
  if (last && last.stream === chunk.stream)
    chunks[chunks.length - 1] = {
      stream: last.stream,
      text: last.text + chunk.text,
    };
  else chunks.push({ ...chunk });
  let size = buf.size + chunk.text.length;
  let dropped = buf.dropped;
  while ((size > cap || chunks.length > MAX_CHUNKS) && chunks.length > 0) {
    const head = chunks[0]!;
    const excess = size - cap;
    if (excess > 0 && excess < head.text.length && chunks.length <= MAX_CHUNKS) {
      // Trim the oldest chunk to the next line break so lines stay whole.
      const nl = head.text.indexOf('\n', excess);
      const cut = nl >= 0 ? nl + 1 : head.text.length;
      chunks[0] = { stream: head.stream, text: head.text.slice(cut) };
      size -= cut;
      dropped += cut;
      if (chunks[0].text === '') chunks.shift();
    } else {
      chunks.shift();
      size -= head.text.length;
      dropped += head.text.length;
    }
  }
  return { chunks, size, dropped };
}

export function logFromText(text: string, cap = DEFAULT_LOG_CAP): LogBuffer {
  return appendLog(emptyLogBuffer, { stream: 'stdout', text }, cap);
}

/**
 * Which of the chunks streamed while the stored text was being fetched are
 * not in that text yet. The stream is ordered, so the longest run of leading
 * chunks that the text ends with was already stored; the rest is new.
 */
export function unseenChunks(fetched: string, streamed: readonly LogChunk[]): LogChunk[] {
  for (let k = streamed.length; k > 0; k--) {
    let tail = '';
    for (let i = 0; i < k; i++) tail += streamed[i]!.text;
    if (fetched.endsWith(tail)) return streamed.slice(k);
  }
  return streamed.slice();
}
