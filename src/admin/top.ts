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

interface Slot extends TopEntry {
  /** index in the min-heap */
  pos: number;
}

/**
 * The tracked keys are kept in a binary min-heap by count as well as in a map, so finding the smallest
 * (the one a newcomer replaces) is O(1) and an update O(log capacity): with many distinct keys (every
 * request a new URL) the per-request cost stays a few steps instead of a scan of the whole table.
 */
export class SpaceSaving {
  private readonly counts = new Map<string, Slot>();
  private readonly heap: Slot[] = [];
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
      this.siftDown(entry.pos);
      return;
    }
    if (this.counts.size < this.capacity) {
      const slot: Slot = { key, count: weight, error: 0, pos: this.heap.length };
      this.counts.set(key, slot);
      this.heap.push(slot);
      this.siftUp(slot.pos);
      return;
    }
    // replace the smallest: the newcomer inherits its count as the possible overcount
    const min = this.heap[0]!;
    this.counts.delete(min.key);
    min.key = key;
    min.error = min.count;
    min.count += weight;
    this.counts.set(key, min);
    this.siftDown(0);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.count <= x.count) break;
      h[i] = h[p]!;
      h[i]!.pos = i;
      i = p;
    }
    h[i] = x;
    x.pos = i;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1]!.count < h[c]!.count) c++;
      if (h[c]!.count >= x.count) break;
      h[i] = h[c]!;
      h[i]!.pos = i;
      i = c;
    }
    h[i] = x;
    x.pos = i;
  }

  /** The n heaviest keys, heaviest first. */
  top(n: number): TopEntry[] {
    return [...this.counts.values()]
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n)
      .map((e) => ({ key: e.key, count: e.count, error: e.error }));
  }

  /** Sum of every weight added (exact). */
  get totalWeight(): number {
    return this.total;
  }

  get size(): number {
    return this.counts.size;
  }
}
