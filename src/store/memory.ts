/**
 * MemoryStore: the in-process tier. A byte budget with LRU eviction by size (lru-cache), entries visible
 * only after commit, bodies kept contiguous up to CONTIGUOUS_LIMIT (returned as one Buffer, ranges as
 * views) and as 256 KiB chunks above (returned as a Readable). Metadata is frozen at commit and handed out
 * as is: a hit costs two Map lookups, no copying, no encoding.
 */
import { LRUCache } from 'lru-cache';
import {
  CHUNK_SIZE,
  CONTIGUOUS_LIMIT,
  ChunkAccumulator,
  clampRange,
  newDigest,
  readableFromChunks,
  sliceRange,
} from './body.js';
import { StoreError, sizeMismatch, storeFull, tooLarge, writerClosed } from './errors.js';
import type { BodySource, ByteRange, EntryInit, EntryMeta, EntryWriter, Store, StoreStats } from './types.js';

export interface MemoryStoreOptions {
  /** byte budget: bodies + header fields + per-entry overhead */
  budget: number;
  /** largest body accepted */
  maxObjectSize: number;
  /**
   * Bytes all writers together may hold before their entries are committed (default: the budget). A fill
   * that would go past it gives up its memory copy (TieredStore keeps writing it to disk): N slow fills of
   * max-object-size can no longer hold N × max-object-size outside the budget.
   */
  inflightBudget?: number;
}

/** Bytes charged per entry on top of body and header fields (maps, meta object, lru node). */
export const MEMORY_ENTRY_OVERHEAD = 512;

interface MemEntry {
  readonly meta: EntryMeta;
  /** whole body (size <= CONTIGUOUS_LIMIT) or CHUNK_SIZE chunks */
  readonly body: Buffer | readonly Buffer[];
  readonly charge: number;
  readonly slot: string;
  /** the caller's prepared form of this entry (Store.attach) */
  attached?: object;
}

interface KeyRecord {
  readonly variants: Map<string, MemEntry>;
  metas: readonly EntryMeta[];
}

const NONE: readonly EntryMeta[] = Object.freeze([]);
const RESOLVED_NONE = Promise.resolve(NONE as EntryMeta[]);

/** Identity of one entry across the tiers: key + variant ('\0' cannot occur in a URI). */
export function slotOf(key: string, variant: string): string {
  return `${key}\0${variant}`;
}

export function headerBytes(meta: Pick<EntryMeta, 'headers' | 'key' | 'vary' | 'varyValues'>): number {
  let n = meta.key.length * 2;
  for (const [name, value] of meta.headers) n += name.length + value.length + 16;
  for (const v of meta.varyValues) n += (v?.length ?? 0) + 8;
  return n + meta.vary.length * 16;
}

function freezeMeta(meta: EntryMeta): EntryMeta {
  for (const pair of meta.headers) Object.freeze(pair);
  Object.freeze(meta.headers);
  Object.freeze(meta.vary);
  Object.freeze(meta.varyValues);
  Object.freeze(meta.policy);
  return Object.freeze(meta);
}

export class MemoryStore implements Store {
  readonly tier = 'memory';
  readonly budget: number;
  readonly maxObjectSize: number;
  private readonly index = new Map<string, KeyRecord>();
  private readonly lru: LRUCache<string, MemEntry>;
  private evictions = 0;
  private hits = 0;
  private misses = 0;
  readonly inflightBudget: number;
  /** body bytes held by writers not yet committed or aborted */
  private inflight = 0;
  /** fills that gave up their memory copy because of inflightBudget */
  inflightRefused = 0;

  constructor(options: MemoryStoreOptions) {
    if (!(options.budget > 0)) throw new RangeError('MemoryStore budget must be > 0');
    this.budget = options.budget;
    this.maxObjectSize = options.maxObjectSize;
    this.inflightBudget = options.inflightBudget ?? options.budget;
    this.lru = new LRUCache<string, MemEntry>({
      maxSize: options.budget,
      sizeCalculation: (e) => e.charge,
      dispose: (entry, _slot, reason) => {
        if (reason === 'evict') {
          this.evictions++;
          this.unindex(entry);
        }
      },
    });
  }

  lookup(key: string): Promise<EntryMeta[]> {
    const metas = this.lookupSync(key);
    return metas.length === 0 ? RESOLVED_NONE : Promise.resolve(metas);
  }

  /** lookup without the promise (TieredStore's hot path). The array and metas are frozen: don't mutate. */
  lookupSync(key: string): EntryMeta[] {
    const rec = this.index.get(key);
    if (rec === undefined) {
      this.misses++;
      return NONE as EntryMeta[];
    }
    this.hits++;
    // touch recency; lru.get on a present key is a Map lookup and a list splice
    for (const entry of rec.variants.values()) this.lru.get(entry.slot);
    return rec.metas as EntryMeta[];
  }

  /** The stored entry matching `meta` (same variant and same body digest), if still held. */
  private entryFor(meta: EntryMeta): MemEntry | undefined {
    const entry = this.index.get(meta.key)?.variants.get(meta.variant);
    return entry !== undefined && entry.meta.digest === meta.digest && entry.meta.size === meta.size ? entry : undefined;
  }

  attach(meta: EntryMeta, value: object): void {
    const entry = this.entryFor(meta);
    if (entry !== undefined) entry.attached = value;
  }

  attachedSync(key: string): { value: object; body: Buffer } | undefined {
    const rec = this.index.get(key);
    if (rec === undefined || rec.variants.size !== 1) return undefined;
    const entry = rec.variants.values().next().value as MemEntry;
    if (entry.attached === undefined || !Buffer.isBuffer(entry.body)) return undefined;
    this.hits++;
    this.lru.get(entry.slot);
    return { value: entry.attached, body: entry.body };
  }

  has(meta: EntryMeta): boolean {
    return this.entryFor(meta) !== undefined;
  }

  read(meta: EntryMeta, range?: ByteRange): Promise<BodySource | undefined> {
    const entry = this.entryFor(meta);
    if (entry === undefined) return Promise.resolve(undefined);
    if (Buffer.isBuffer(entry.body)) return Promise.resolve(sliceRange(entry.body, range));
    const r = clampRange(range, entry.meta.size);
    if (r === undefined) return Promise.resolve(Buffer.alloc(0));
    return Promise.resolve(readableFromChunks(entry.body as readonly Buffer[], CHUNK_SIZE, r));
  }

  write(init: EntryInit): EntryWriter {
    return new MemoryWriter(this, init);
  }

  /** Called by the writer: make a finished body visible. */
  insert(meta: EntryMeta, body: Buffer | readonly Buffer[]): void {
    const charge = meta.size + headerBytes(meta) + MEMORY_ENTRY_OVERHEAD;
    if (charge > this.budget) throw tooLarge(meta.key, this.budget);
    const frozen = freezeMeta(meta);
    const entry: MemEntry = { meta: frozen, body, charge, slot: slotOf(meta.key, meta.variant) };
    let rec = this.index.get(meta.key);
    if (rec === undefined) {
      rec = { variants: new Map(), metas: NONE };
      this.index.set(meta.key, rec);
    }
    rec.variants.set(meta.variant, entry);
    rec.metas = Object.freeze([...rec.variants.values()].map((e) => e.meta));
    this.lru.set(entry.slot, entry);
  }

  /** @internal writer: take `n` bytes of the in-flight budget; false when they do not fit */
  reserve(n: number): boolean {
    if (this.inflight + n > this.inflightBudget) {
      this.inflightRefused++;
      return false;
    }
    this.inflight += n;
    return true;
  }

  /** @internal writer: give back in-flight bytes */
  release(n: number): void {
    this.inflight = Math.max(0, this.inflight - n);
  }

  /** Bytes held by writers in flight now. */
  get inflightBytes(): number {
    return this.inflight;
  }

  /** Drop every entry (the change log of a shared disk store moved too far to tell which changed). */
  clear(): void {
    this.lru.clear();
    this.index.clear();
  }

  private unindex(entry: MemEntry): void {
    const rec = this.index.get(entry.meta.key);
    if (rec === undefined || rec.variants.get(entry.meta.variant) !== entry) return;
    rec.variants.delete(entry.meta.variant);
    if (rec.variants.size === 0) this.index.delete(entry.meta.key);
    else rec.metas = Object.freeze([...rec.variants.values()].map((e) => e.meta));
  }

  async update(meta: EntryMeta): Promise<void> {
    const entry = this.entryFor(meta);
    if (entry === undefined) return;
    const next: EntryMeta = {
      ...meta,
      headers: meta.headers.map(([n, v]) => [n, v] as [string, string]),
      vary: [...meta.vary],
      varyValues: [...meta.varyValues],
      policy: { ...meta.policy },
      size: entry.meta.size,
      digest: entry.meta.digest,
    };
    this.insert(next, entry.body);
  }

  async delete(key: string, variant?: string): Promise<number> {
    const rec = this.index.get(key);
    if (rec === undefined) return 0;
    const victims = variant === undefined ? [...rec.variants.values()] : [rec.variants.get(variant)].filter((e) => e !== undefined);
    for (const entry of victims) {
      this.unindex(entry);
      this.lru.delete(entry.slot);
    }
    return victims.length;
  }

  async deletePrefix(prefix: string): Promise<number> {
    return this.deletePrefixSync(prefix);
  }

  /** deletePrefix done before returning (a TieredStore catching up with other processes relies on it). */
  deletePrefixSync(prefix: string): number {
    let n = 0;
    for (const key of [...this.index.keys()]) {
      if (!key.startsWith(prefix)) continue;
      const rec = this.index.get(key)!;
      for (const entry of [...rec.variants.values()]) {
        this.unindex(entry);
        this.lru.delete(entry.slot);
        n++;
      }
    }
    return n;
  }

  stats(): StoreStats {
    return {
      tier: this.tier,
      objects: this.lru.size,
      bytes: this.lru.calculatedSize,
      budget: this.budget,
      evictions: this.evictions,
      hits: this.hits,
      misses: this.misses,
      refused: { inflight: this.inflightRefused },
    };
  }

  tierStats(): StoreStats[] {
    return [this.stats()];
  }

  async close(): Promise<void> {
    this.lru.clear();
    this.index.clear();
  }
}

class MemoryWriter implements EntryWriter {
  private parts: Buffer[] = [];
  private size = 0;
  private readonly hash = newDigest();
  private failed: StoreError | undefined;
  private closed = false;

  constructor(
    private readonly store: MemoryStore,
    private readonly init: EntryInit,
  ) {}

  write(chunk: Buffer): void | Promise<void> {
    if (this.closed) {
      if (this.failed) return; // reported once already
      return Promise.reject(writerClosed(this.init.key));
    }
    this.size += chunk.length;
    const limit = Math.min(this.store.maxObjectSize, this.init.expectedSize ?? Infinity);
    if (this.size <= limit && !this.store.reserve(chunk.length)) {
      this.failed = storeFull(this.init.key, `fills in flight hold the memory budget for them (${this.store.inflightBudget} bytes)`);
      this.abort();
      return Promise.reject(this.failed);
    }
    if (this.size > limit) {
      this.failed =
        this.size > this.store.maxObjectSize
          ? tooLarge(this.init.key, this.store.maxObjectSize)
          : sizeMismatch(this.init.key, this.init.expectedSize!, this.size);
      this.abort();
      return Promise.reject(this.failed);
    }
    this.hash.update(chunk);
    this.parts.push(chunk);
  }

  async commit(): Promise<EntryMeta> {
    if (this.closed) throw this.failed ?? writerClosed(this.init.key);
    this.closed = true;
    const { expectedSize, ...init } = this.init;
    this.store.release(this.held());
    const parts = this.parts;
    this.parts = [];
    if (expectedSize !== undefined && expectedSize !== this.size) throw sizeMismatch(init.key, expectedSize, this.size);
    if (this.size > this.store.maxObjectSize) throw tooLarge(init.key, this.store.maxObjectSize);
    let body: Buffer | Buffer[];
    if (this.size <= CONTIGUOUS_LIMIT) {
      // one owned, exact-size copy (allocUnsafeSlow: not a slice of the shared pool, so the charge is true)
      body = Buffer.allocUnsafeSlow(this.size);
      let at = 0;
      for (const p of parts) at += p.copy(body, at);
    } else {
      const acc = new ChunkAccumulator(CHUNK_SIZE);
      body = [];
      for (const p of parts) body.push(...acc.push(p));
      const last = acc.finish();
      if (last) body.push(Buffer.from(last));
    }
    const meta: EntryMeta = { ...init, size: this.size, digest: this.hash.digest('base64') };
    this.store.insert(meta, body);
    return meta;
  }

  abort(): void {
    this.closed = true;
    this.store.release(this.held());
    this.parts = [];
  }

  /** bytes reserved for the parts held (the last write may have been refused before it was kept) */
  private held(): number {
    let n = 0;
    for (const p of this.parts) n += p.length;
    return n;
  }
}
