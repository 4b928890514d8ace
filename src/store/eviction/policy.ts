/**
 * Eviction policies: each turns an entry's access history into a priority; the entry with the lowest
 * priority is evicted first. Stores keep entries ordered by priority (LmdbStore in an index table,
 * the benchmark in a heap), so a policy is just these two pure functions.
 */
import { gdsf } from './gdsf.js';
import { lru } from './lru.js';

export type EvictionName = 'lru' | 'gdsf';

export interface AccessState {
  /** body + header bytes charged for the entry */
  size: number;
  /** hits since stored, counting the store itself as 1 */
  frequency: number;
  /** a clock that only grows (ms since epoch in the stores, a counter in simulations) */
  now: number;
}

export interface EvictionPolicy {
  readonly name: EvictionName;
  /** Priority of an entry after it was stored or hit; `inflation` is the policy's running L. */
  priority(state: AccessState, inflation: number): number;
  /** The running L after evicting an entry that had priority `evicted`. */
  inflationAfterEvict(inflation: number, evicted: number): number;
}

export function evictionPolicy(name: EvictionName): EvictionPolicy {
  switch (name) {
    case 'lru':
      return lru;
    case 'gdsf':
      return gdsf;
  }
}

export const EVICTION_NAMES: readonly EvictionName[] = ['lru', 'gdsf'];
