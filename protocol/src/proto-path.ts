// Finds aip.proto at runtime. In the repo the single source of truth is
// proto/aip.proto (two levels above both src/ and dist/); an installed
// package carries a copy at its root (protocol/aip.proto, made by the
// `prepack` script), one level above src/ and dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function protoCandidates(): string[] {
  return [
    process.env.ORRERY_AIP_PROTO ?? '',
    fileURLToPath(new URL('../../proto/aip.proto', import.meta.url)),
    fileURLToPath(new URL('../aip.proto', import.meta.url)),
  ].filter((p) => p !== '');
}

export function resolveProtoPath(): string {
  const candidates = protoCandidates();
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) {
    throw new Error(`aip.proto not found; looked in: ${candidates.join(', ')}`);
  }
  return found;
}
