// Keeps the agent's artifact cache under its cap: least recently used blobs
// go first, but none used in the last ten minutes (a task may be about to copy it).
import type { BlobStore } from '@orrery/protocol/client';
import type { Logger } from 'pino';

const RECENT_MS = 10 * 60 * 1000;

export function trimCache(cache: BlobStore, maxBytes: number, logger: Logger, now = Date.now()): number {
  const blobs = cache.list().sort((a, b) => a.usedAt - b.usedAt);
  let total = blobs.reduce((n, b) => n + b.size, 0);
  let removed = 0;
  for (const b of blobs) {
    if (total <= maxBytes) break;
    if (now - b.usedAt < RECENT_MS) continue;
    cache.remove(b.digest);
    total -= b.size;
    removed++;
  }
  if (removed > 0) logger.info({ removed, cacheBytes: total }, 'artifact cache trimmed');
  return removed;
}
