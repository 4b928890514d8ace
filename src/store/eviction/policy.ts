/**
 * Eviction policies: each turns an entry's access history into a priority; the entry with the lowest
 * priority is evicted first. Stores keep entries ordered by priority (LmdbStore in an index table,
 * the benchmark in a heap), so a policy is just these two pure functions (their types: types.ts).
 */
import { gdsf } from './gdsf.js';
import { lru } from './lru.js';
import type { EvictionName, EvictionPolicy } from './types.js';

export function evictionPolicy(name: EvictionName): EvictionPolicy {
  switch (name) {
    case 'lru':
      return lru;
    case 'gdsf':
      return gdsf;
  }
}

export const EVICTION_NAMES: readonly EvictionName[] = ['lru', 'gdsf'];
