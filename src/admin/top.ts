/**
 * Bounded "top N" counting with the Space-Saving algorithm (Metwally, Agrawal, El Abbadi, "Efficient
 * Computation of Frequent and Top-k Elements in Data Streams", ICDT 2005), weighted variant.
 *
 * At most `capacity` keys are tracked. When a new key arrives and the table is full, the key with the
 * smallest count is replaced and the newcomer inherits that count (recorded as its possible overcount,
 * `error`). Any key whose true total exceeds (total weight / capacity) is guaranteed to be in the table,
 * and each reported count overestimates the true one by at most its `error`. Memory is O(capacity)
 * whatever the traffic: a proxy seeing millions of distinct URLs keeps the same small table.
 */

export interface TopEntry {
  key: string;
  /** estimated total weight (an upper bound of the true one) */
  count: number;
  /** how much of `count` may have been inherited from an evicted key */
  error: number;
}

export class SpaceSaving {
  private readonly counts = new Map<string, TopEntry>();
  private total = 0;

  /**
   * @param capacity keys tracked (memory bound); report fewer than this for accurate results
   * @param maxKeyLength keys are cut to this many characters (a long URL must not cost unbounded memory)
   */
  constructor(readonly capacity = 128, private readonly maxKeyLength = 256) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  add(rawKey: string, weight = 1): void {
    if (!(weight > 0)) return;
    const key = rawKey.length > this.maxKeyLength ? `${rawKey.slice(0, this.maxKeyLength - 1)}…` : rawKey;
    this.total += weight;
    const entry = this.counts.get(key);
    if (entry) {
      entry.count += weight;
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(key, { key, count: weight, error: 0 });
      return;
    }
    // replace the minimum: O(capacity) scan, done only for a key not yet tracked while the table is full
    let min: TopEntry | undefined;
    for (const e of this.counts.values()) if (!min || e.count < min.count) min = e;
    this.counts.delete(min!.key);
    this.counts.set(key, { key, count: min!.count + weight, error: min!.count });
  }

  /** The n heaviest keys, heaviest first. */
  top(n: number): TopEntry[] {
    return [...this.counts.values()]
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n)
      .map((e) => ({ ...e }));
  }

  /** Sum of every weight added (exact). */
  get totalWeight(): number {
    return this.total;
  }

  get size(): number {
    return this.counts.size;
  }
}
