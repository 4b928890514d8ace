/** The shape of an eviction policy (policy.ts picks one by name; lru.ts and gdsf.ts implement it). */

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
