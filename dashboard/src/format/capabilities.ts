// Device capabilities and load as label/value pairs. Known fields get a
// friendly form; any field this page does not know yet (newer agents probe
// more: disks, battery, GPU models...) is still shown, formatted generically.

export interface Entry {
  key: string;
  label: string;
  value: string;
}

/** Shown in their own columns, so not repeated in the capabilities cell. */
const OWN_COLUMNS = new Set(['os', 'arch', 'labels', 'features', 'slots']);

const LABELS: Record<string, string> = {
  hostname: 'host',
  cpus: 'cpus',
  memoryMb: 'memory',
  gpus: 'gpus',
  executors: 'executors',
  batteryPercent: 'battery',
  thermalCelsius: 'temperature',
  loadAvg: 'load',
};

/** Known fields first, in this order; unknown ones after, alphabetically. */
const ORDER = ['hostname', 'cpus', 'memoryMb', 'gpus', 'executors', 'loadAvg', 'batteryPercent', 'thermalCelsius'];

export function formatMegabytes(mb: number): string {
  if (mb >= 1024 * 1024) return `${(mb / 1024 / 1024).toFixed(1)} TiB`;
  if (mb >= 1024) return `${(mb / 1024).toFixed(1)} GiB`;
  return `${Math.round(mb)} MiB`;
}

/**
 * "diskFreeMb" → "disk free": readable enough for a field we have never seen.
 * Unit suffixes are dropped because formatValue puts the unit on the value.
 */
export function humanKey(key: string): string {
  return key
    .replace(/(?<=[a-z0-9])(Mb|Percent|Celsius)$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
}

function isUnknownReading(v: unknown): boolean {
  // Agents report -1 (or null) where a reading does not exist: no battery, no sensor.
  return v === null || v === undefined || v === '' || (typeof v === 'number' && v < 0);
}

/** A value of any shape as one line. */
export function formatValue(key: string, v: unknown): string {
  if (typeof v === 'number') {
    if (/mb$/i.test(key)) return formatMegabytes(v);
    if (/percent$/i.test(key)) return `${Math.round(v)}%`;
    if (/celsius$/i.test(key)) return `${Math.round(v)}°C`;
    return Number.isInteger(v) ? String(v) : v.toFixed(2);
  }
  if (typeof v === 'string' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => formatValue(key, x)).join(', ');
  if (v && typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => !isUnknownReading(x))
      .map(([k, x]) => `${humanKey(k)} ${formatValue(k, x)}`)
      .join(' · ');
  }
  return String(v);
}

function entries(record: Record<string, unknown> | undefined, skip: ReadonlySet<string>): Entry[] {
  if (!record) return [];
  const keys = Object.keys(record).filter((k) => !skip.has(k) && !isUnknownReading(record[k]));
  const rank = (k: string) => {
    const i = ORDER.indexOf(k);
    return i < 0 ? ORDER.length : i;
  };
  keys.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return keys
    .map((key) => ({ key, label: LABELS[key] ?? humanKey(key), value: formatValue(key, record[key]) }))
    .filter((e) => e.value !== '');
}

export function capabilityEntries(caps: Record<string, unknown> | undefined): Entry[] {
  return entries(caps, OWN_COLUMNS);
}

export function loadEntries(load: Record<string, unknown> | undefined): Entry[] {
  if (!load) return [];
  const avg = Array.isArray(load.loadAvg) ? load.loadAvg[0] : load.loadAvg;
  return entries({ ...load, loadAvg: avg }, new Set());
}
