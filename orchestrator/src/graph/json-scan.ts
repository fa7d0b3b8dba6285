// A single pass over JSON text that JSON.parse already accepted: finds
// duplicate keys (JSON.parse silently keeps the last) and, on request, the
// offset of every key and value. `yaml` can do both but is ~100x slower on
// big JSON documents.

export interface JsonDuplicate {
  /** Path of the object holding the key. */
  path: string[];
  key: string;
  /** Offset of the repeated key. */
  offset: number;
}

export interface JsonNodePosition {
  key?: number;
  value: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Walk `text` (valid JSON). Returns duplicate keys; when `positions` is given,
 * fills it with the offsets of every node by JSON pointer.
 */
export function scanJson(text: string, positions?: Map<string, JsonNodePosition>): JsonDuplicate[] {
  const duplicates: JsonDuplicate[] = [];
  const path: string[] = [];
  let i = 0;
  const skipWs = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  const readString = (): string => {
    const start = i;
    // Jump from quote to quote; a quote after an odd run of backslashes is escaped.
    let q = text.indexOf('"', i + 1);
    for (;;) {
      let b = q - 1;
      while (text.charCodeAt(b) === 0x5c) b--;
      if ((q - 1 - b) % 2 === 0) break;
      q = text.indexOf('"', q + 1);
    }
    i = q + 1;
    const raw = text.slice(start, i);
    return raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  const pointer = (): string => path.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  const value = (keyOffset?: number): void => {
    skipWs();
    if (positions) positions.set(pointer(), keyOffset === undefined ? { value: i } : { key: keyOffset, value: i });
    const c = text[i];
    if (c === '{') {
      i++;
      // Most objects are small: a list beats a Set until it grows.
      let few: string[] | null = [];
      let many: Set<string> | null = null;
      const repeated = (key: string): boolean => {
        if (few) {
          if (few.includes(key)) return true;
          few.push(key);
          if (few.length > 16) {
            many = new Set(few);
            few = null;
          }
          return false;
        }
        if (many!.has(key)) return true;
        many!.add(key);
        return false;
      };
      skipWs();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skipWs();
        const at = i;
        const key = readString();
        if (repeated(key)) duplicates.push({ path: [...path], key, offset: at });
        skipWs();
        i++; // colon
        path.push(key);
        value(at);
        path.pop();
        skipWs();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i++;
      skipWs();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        path.push(String(n));
        value();
        path.pop();
        skipWs();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    while (i < text.length && !WS.has(text.charCodeAt(i)) && text[i] !== ',' && text[i] !== '}' && text[i] !== ']') i++;
  };
  value();
  return duplicates;
}

/** Offset -> 1-based line and column, with line starts computed once. */
export function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}
