/**
 * The store tee: the body of an upstream response on its way into a store writer, beside its way to the
 * client. The entry commits only when the body arrived whole (DESIGN invariant 1). It holds:
 * - the read-your-writes step: with a known length, the chunk that completes the body is held back from the
 *   client until the commit, so a client that asks again at once finds it stored; the wait is bounded
 *   (`commitWaitMs`), past which the client gets its last chunk without the promise (counted);
 * - the abandonment rule: when no client waits for the body any more, finish a fill that is nearly done and
 *   give up on the others (Squid's quick_abort_min / quick_abort_max / quick_abort_pct).
 * No socket here: the deliverer (proxy/respond) feeds it chunks and asks it what to do.
 */
import type { EntryMeta, EntryWriter } from '../store/types.js';

/** Squid's quick_abort_*: remaining < minBytes → finish; remaining > maxBytes → abort; else finish when ≥ percent done. */
export interface AbandonRule {
  minBytes: number;
  maxBytes: number;
  percent: number;
}

/** Finish (true) or abort (false) a fill that no client waits for any more. Unknown length: abort. */
export function finishAbandonedFill(received: number, expected: number | undefined, rule: AbandonRule): boolean {
  if (expected === undefined || received > expected) return false;
  const remaining = expected - received;
  if (remaining < rule.minBytes) return true;
  if (remaining > rule.maxBytes) return false;
  return expected === 0 || (received * 100) / expected >= rule.percent;
}

export interface FillOptions {
  /** the size announced by Content-Length, if any */
  expectedSize?: number;
  /** how long the last chunk waits for the commit */
  commitWaitMs: number;
  abandon: AbandonRule;
  /** other requests wait for this fill (collapsed followers): it is never abandoned then */
  othersWaiting(): boolean;
  onSlowCommit?(): void;
  onAbandoned?(): void;
  /** the entry is committed, as the store now holds it */
  onCommitted?(meta: EntryMeta): void;
}

export type CommitResult = 'stored' | 'failed' | 'slow';

export class StoreFill {
  private writer: EntryWriter | undefined;
  private received = 0;
  private settle!: (stored: boolean) => void;
  private settledOnce = false;
  /** resolves with whether the entry was committed, once that is known */
  readonly settled: Promise<boolean>;

  constructor(writer: EntryWriter, private readonly opts: FillOptions) {
    this.writer = writer;
    this.settled = new Promise((r) => { this.settle = r; });
  }

  /** The writer still takes the body (it did not refuse a chunk, and was not aborted). */
  get active(): boolean {
    return this.writer !== undefined;
  }

  get expectedSize(): number | undefined {
    return this.opts.expectedSize;
  }

  /** Hand a chunk to the writer; true when this chunk completes a body of announced length (hold it back). */
  async write(chunk: Buffer): Promise<boolean> {
    this.received += chunk.length;
    const w = this.writer;
    if (!w) return false;
    try {
      const p = w.write(chunk);
      if (p) await p;
    } catch {
      this.abort(); // too large or a store failure: the client is still served
      return false;
    }
    return this.opts.expectedSize !== undefined && this.received >= this.opts.expectedSize;
  }

  /** The client left: keep reading into the store (true) or stop the upstream read (false, fill aborted). */
  continueWithoutClient(): boolean {
    if (!this.writer) return false;
    if (this.opts.othersWaiting() || finishAbandonedFill(this.received, this.opts.expectedSize, this.opts.abandon)) return true;
    this.opts.onAbandoned?.();
    this.abort();
    return false;
  }

  /** Commit; resolves 'slow' when the commit takes longer than commitWaitMs (it goes on in the background). */
  commit(): Promise<CommitResult> {
    const w = this.writer;
    if (!w) return Promise.resolve('failed');
    this.writer = undefined;
    const done = w.commit().then((meta) => { this.opts.onCommitted?.(meta); return true; }, () => { w.abort(); return false; });
    void done.then((stored) => this.finish(stored));
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<CommitResult>((r) => { timer = setTimeout(() => r('slow'), this.opts.commitWaitMs); });
    return Promise.race([done.then((ok): CommitResult => (ok ? 'stored' : 'failed')), slow]).then((r) => {
      clearTimeout(timer);
      if (r === 'slow') this.opts.onSlowCommit?.();
      return r;
    });
  }

  /** Discard what was written; idempotent. */
  abort(): void {
    const w = this.writer;
    this.writer = undefined;
    w?.abort();
    this.finish(false);
  }

  private finish(stored: boolean): void {
    if (this.settledOnce) return;
    this.settledOnce = true;
    this.settle(stored);
  }
}
