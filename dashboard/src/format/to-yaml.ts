// A small YAML emitter for plain JSON data (what /v1/plan returns), so a
// planned graph can be reviewed in the friendlier format. Strings that could
// be misread are written as JSON strings, which are valid YAML scalars.

const PLAIN_SAFE = /^[A-Za-z0-9_./][A-Za-z0-9_ ./:@,+=-]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i;
const NUMERIC = /^[-+]?(\d[\d_]*\.?\d*([eE][-+]?\d+)?|\.\d+|0x[0-9a-fA-F]+|0o[0-7]+|\.inf|\.nan)$/i;

function scalar(value: string): string {
  if (value === '') return '""';
  const plain =
    PLAIN_SAFE.test(value) &&
    !RESERVED.test(value) &&
    !NUMERIC.test(value) &&
    !value.endsWith(' ') &&
    !value.includes(': ') &&
    !value.includes(' #');
  return plain ? value : JSON.stringify(value);
}

function key(k: string): string {
  return scalar(k);
}

function isBlockable(value: string): boolean {
  // Literal blocks keep multi-line shell scripts readable; they cannot hold
  // trailing spaces on lines or leading-space first lines faithfully.
  return value.includes('\n') && !/[ \t]\n/.test(value) && !value.startsWith(' ') && !/[\r\t]/.test(value);
}

function emit(value: unknown, indent: number, out: string[], prefix: string): void {
  const pad = ' '.repeat(indent);
  if (value === null || value === undefined) {
    out.push(`${prefix}null`);
  } else if (typeof value === 'string') {
    if (isBlockable(value)) {
      const chomp = value.endsWith('\n') ? (value.endsWith('\n\n') ? '+' : '') : '-';
      out.push(`${prefix}|${chomp}`);
      const body = value.endsWith('\n') ? value.slice(0, -1) : value;
      for (const line of body.split('\n')) out.push(line === '' ? '' : `${pad}  ${line}`);
    } else {
      out.push(`${prefix}${scalar(value)}`);
    }
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    out.push(`${prefix}${String(value)}`);
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.push(`${prefix}[]`);
      return;
    }
    if (prefix.trim() !== '') out.push(prefix.trimEnd());
    for (const item of value) {
      if (item && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0) {
        emitObject(item as Record<string, unknown>, indent + 2, out, `${pad}- `);
      } else {
        emit(item, indent + 2, out, `${pad}- `);
      }
    }
  } else if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (Object.keys(obj).length === 0) {
      out.push(`${prefix}{}`);
      return;
    }
    if (prefix.trim() !== '') out.push(prefix.trimEnd());
    emitObject(obj, indent, out, pad);
  } else {
    out.push(`${prefix}${JSON.stringify(String(value))}`);
  }
}

/** Writes an object's entries; the first line starts with firstPrefix (used for "- " list items). */
function emitObject(obj: Record<string, unknown>, indent: number, out: string[], firstPrefix: string): void {
  const pad = ' '.repeat(indent);
  let first = true;
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    const linePrefix = first ? firstPrefix : pad;
    first = false;
    const isNested = v !== null && typeof v === 'object' && Object.keys(v as object).length > 0;
    if (isNested) {
      out.push(`${linePrefix}${key(k)}:`);
      if (Array.isArray(v)) emit(v, indent + 2, out, '');
      else emitObject(v as Record<string, unknown>, indent + 2, out, `${pad}  `);
    } else {
      emit(v, indent, out, `${linePrefix}${key(k)}: `);
    }
  }
}

export function toYaml(value: unknown): string {
  const out: string[] = [];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    emitObject(value as Record<string, unknown>, 0, out, '');
  } else {
    emit(value, 0, out, '');
  }
  return `${out.join('\n')}\n`;
}
