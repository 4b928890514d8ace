/**
 * Per-key failure limiter (used for failed proxy authentications per client address).
 *
 * Sliding-window counter: each key keeps the count of the current fixed window and of the previous one;
 * the estimate is `previous * (share of the previous window still inside the sliding window) + current`.
 * Unlike a plain fixed window it does not allow a double burst across a window boundary, and it needs
 * two numbers per key. Memory is bounded: at most `maxKeys` keys, the least recently hit evicted first.
 */

interface Counter {
  /** start of the current fixed window, ms */
  start: number;
  current: number;
  previous: number;
}

export interface RateLimiterOptions {
  /** failures within `windowMs` at which the key becomes limited */
  max: number;
  windowMs: number;
  /** keys tracked at most (default 10 000); the least recently hit is dropped beyond it */
  maxKeys?: number;
  /** clock, for tests */
  now?: () => number;
}

export class RateLimiter {
  private readonly counters = new Map<string, Counter>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  /** keys dropped because `maxKeys` was reached (exported as a metric by the caller) */
  evictions = 0;

  constructor(opts: RateLimiterOptions) {
    if (!(opts.max >= 1) || !(opts.windowMs > 0)) throw new RangeError('RateLimiter: max must be >= 1 and windowMs > 0');
    this.max = opts.max;
    this.windowMs = opts.windowMs;
    this.maxKeys = Math.max(1, opts.maxKeys ?? 10_000);
    this.now = opts.now ?? Date.now;
  }

  /** Record one failure for `key`. Returns true when the key is now limited. */
  hit(key: string): boolean {
    const now = this.now();
    let c = this.counters.get(key);
    if (c) {
      this.roll(c, now);
      this.counters.delete(key); // re-inserted below: Map order is recency order
    } else {
      c = { start: now, current: 0, previous: 0 };
      if (this.counters.size >= this.maxKeys) this.evictOldest(now);
    }
    c.current++;
    this.counters.set(key, c);
    return this.estimate(c, now) >= this.max;
  }

  /** Take back one failure recorded for `key` (a check counted as it started, then succeeded). */
  refund(key: string): void {
    const c = this.counters.get(key);
    if (!c) return;
    this.roll(c, this.now());
    if (c.current > 0) c.current--;
    else if (c.previous > 0) c.previous--;
  }

  /** True when `key` has reached `max` failures within the sliding window. */
  isLimited(key: string): boolean {
    const c = this.counters.get(key);
    if (!c) return false;
    const now = this.now();
    this.roll(c, now);
    if (c.current === 0 && c.previous === 0) {
      this.counters.delete(key);
      return false;
    }
    return this.estimate(c, now) >= this.max;
  }

  /** Keys currently tracked. */
  get size(): number {
    return this.counters.size;
  }

  /** Advance the key's fixed window to the one containing `now`. */
  private roll(c: Counter, now: number): void {
    const elapsed = now - c.start;
    if (elapsed < this.windowMs) return;
    const windows = Math.floor(elapsed / this.windowMs);
    c.previous = windows === 1 ? c.current : 0;
    c.current = 0;
    c.start += windows * this.windowMs;
  }

  private estimate(c: Counter, now: number): number {
    const intoWindow = Math.min(1, Math.max(0, (now - c.start) / this.windowMs));
    return c.previous * (1 - intoWindow) + c.current;
  }

  /** Drop expired keys first; if none expired, the least recently hit one. */
  private evictOldest(now: number): void {
    const oldest = this.counters.keys().next();
    if (oldest.done) return;
    const c = this.counters.get(oldest.value)!;
    this.roll(c, now);
    if (c.current !== 0 || c.previous !== 0) this.evictions++;
    this.counters.delete(oldest.value);
  }
}
