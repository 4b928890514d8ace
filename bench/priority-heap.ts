/**
 * An indexed binary min-heap: priorities by key, update and remove in O(log n).
 * Used to simulate eviction policies (bench/eviction.ts); no store uses it.
 */
export class PriorityHeap<K> {
  private keys: K[] = [];
  private prios: number[] = [];
  private index = new Map<K, number>();

  get size(): number {
    return this.keys.length;
  }

  has(key: K): boolean {
    return this.index.has(key);
  }

  set(key: K, priority: number): void {
    const at = this.index.get(key);
    if (at === undefined) {
      this.keys.push(key);
      this.prios.push(priority);
      this.index.set(key, this.keys.length - 1);
      this.up(this.keys.length - 1);
      return;
    }
    const old = this.prios[at]!;
    this.prios[at] = priority;
    if (priority < old) this.up(at);
    else this.down(at);
  }

  /** Remove and return the lowest-priority entry. */
  pop(): { key: K; priority: number } | undefined {
    if (this.keys.length === 0) return undefined;
    const key = this.keys[0]!;
    const priority = this.prios[0]!;
    this.removeAt(0);
    return { key, priority };
  }

  delete(key: K): boolean {
    const at = this.index.get(key);
    if (at === undefined) return false;
    this.removeAt(at);
    return true;
  }

  private removeAt(at: number): void {
    const last = this.keys.length - 1;
    this.index.delete(this.keys[at]!);
    if (at !== last) {
      this.keys[at] = this.keys[last]!;
      this.prios[at] = this.prios[last]!;
      this.index.set(this.keys[at]!, at);
    }
    this.keys.pop();
    this.prios.pop();
    if (at < this.keys.length) {
      this.up(at);
      this.down(at);
    }
  }

  private swap(a: number, b: number): void {
    const k = this.keys[a]!;
    const p = this.prios[a]!;
    this.keys[a] = this.keys[b]!;
    this.prios[a] = this.prios[b]!;
    this.keys[b] = k;
    this.prios[b] = p;
    this.index.set(this.keys[a]!, a);
    this.index.set(this.keys[b]!, b);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.prios[parent]! <= this.prios[i]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.prios[l]! < this.prios[m]!) m = l;
      if (r < n && this.prios[r]! < this.prios[m]!) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
