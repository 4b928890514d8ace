/**
 * A plain hit: a stored entry without Vary that the engine has just stored, or served whole, fresh and
 * unmodified, with the head it sends less Age, Via and Cache-Status (the body stays the memory tier's). The engine attaches it to the entry in the
 * memory tier (Store.attach); the fast hit path (proxy/fast-hit.ts) answers the next plain GETs from it
 * after asking the same freshness question (policy.decideUse) the slow path asks.
 */
import type { CachedEntry } from './stored-policy.js';
import type { ReadyHead } from './serve.js';

export interface PlainHit {
  readonly entry: CachedEntry;
  readonly head: ReadyHead;
}
