/**
 * A plain hit: a stored entry that the engine has just served whole, fresh and unmodified (no Vary, body in
 * memory), with the head it sent less Age, Via and Cache-Status. The engine attaches it to the entry in the
 * memory tier (Store.attach); the fast hit path (proxy/fast-hit.ts) answers the next plain GETs from it
 * after asking the same freshness question (policy.decideUse) the slow path asks.
 */
import type { CachedEntry } from './stored-policy.js';
import type { ReadyHead } from './serve.js';

export interface PlainHit {
  readonly entry: CachedEntry;
  readonly head: ReadyHead;
  readonly body: Buffer;
}
