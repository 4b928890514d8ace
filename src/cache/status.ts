/** How the cache's Cache-Status maps to the access log's cache result. */
import type { CacheResult } from '../log/record.js';
import type { CacheStatusParams } from '../http/cache-status.js';

/** The access-log cache result implied by the Cache-Status we sent. */
export function cacheResultOf(p: CacheStatusParams, servedStale: boolean): CacheResult {
  if (p.hit) return servedStale ? 'stale' : 'hit';
  if (p.fwd === 'stale' && p.fwdStatus === 304) return 'revalidated';
  if (p.fwd === 'bypass' || p.fwd === 'method') return 'bypass';
  return 'miss';
}
