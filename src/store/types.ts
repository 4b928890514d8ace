/**
 * The Store interface: what every tier (memory, lmdb disk, tiered) implements.
 * A store knows nothing of HTTP semantics: it keeps entries (metadata + body bytes) under a primary key
 * and a variant id, and makes a new entry visible only once its body was written completely.
 */
import type { Readable } from 'node:stream';

/**
 * What the cache layer keeps with an entry (its freshness state, JSON-serialisable). Opaque to the store:
 * a store copies it and hands it back, and never reads it.
 */
export type EntryPolicy = Readonly<Record<string, unknown>>;

export interface EntryMeta<P extends EntryPolicy = EntryPolicy> {
  /** primary cache key: normalised absolute URI */
  key: string;
  /** variant id: '' when the response has no Vary, else a digest of the selecting request field values */
  variant: string;
  /** lower-cased field names listed in Vary (empty when none) */
  vary: string[];
  /** normalised values of the `vary` request fields when stored, same order */
  varyValues: (string | null)[];
  status: number;
  statusMessage?: string;
  /** stored response header fields, hop-by-hop already removed; Age / Cache-Status are added per hit */
  headers: [string, string][];
  policy: P;
  /** body length in bytes (checked at commit) */
  size: number;
  /** sha256 of the body, base64 (checked by the disk store on read) */
  digest: string;
  /** ms since epoch when first stored */
  storedAt: number;
}

/** What the writer is told up front: everything but the size and digest, which it computes. */
export type EntryInit = Omit<EntryMeta, 'size' | 'digest'> & {
  /** the size announced by Content-Length, if any: commit fails when the body differs */
  expectedSize?: number;
};

export interface EntryWriter {
  /** Append body bytes. Resolves when the store can take more (backpressure). */
  write(chunk: Buffer): void | Promise<void>;
  /** Make the entry visible. Rejects (and discards the entry) when the body length differs from expectedSize. */
  commit(): Promise<EntryMeta>;
  /** Discard everything written; idempotent. */
  abort(): void;
}

export interface ByteRange {
  /** first byte, inclusive */
  start: number;
  /** last byte, inclusive */
  end: number;
}

/** A body source: a Buffer when the store has it contiguous at hand (small objects), else a stream. */
export type BodySource = Buffer | Readable;

export interface StoreStats {
  tier: string;
  objects: number;
  bytes: number;
  budget: number;
  evictions: number;
  hits: number;
  misses: number;
  /** entries or fills the tier refused, by reason (full, writeErrors, keyTooLong, budget, corrupt, inflight) */
  refused?: Record<string, number>;
}

export interface Store {
  readonly tier: string;
  /** All committed variants for a primary key (empty when none). */
  lookup(key: string): Promise<EntryMeta[]>;
  /** Read a committed entry's body, whole or a byte range. Undefined when the entry vanished (evicted). */
  read(meta: EntryMeta, range?: ByteRange): Promise<BodySource | undefined>;
  /** Start writing an entry; replaces the same key+variant on commit. */
  write(init: EntryInit): EntryWriter;
  /** Replace an entry's headers/policy (after a 304, §4.3.4) keeping its body. */
  update(meta: EntryMeta): Promise<void>;
  /** Delete one variant, or every variant of the key when variant is undefined. Returns entries removed. */
  delete(key: string, variant?: string): Promise<number>;
  /** Delete every entry whose key starts with prefix. Returns entries removed. */
  deletePrefix(prefix: string): Promise<number>;
  stats(): StoreStats;
  /** Per-tier statistics for a store made of several tiers (memory, disk); absent for a single tier. */
  tierStats?(): StoreStats[];
  /**
   * Keep `value` with the committed entry `meta` while it stays in memory (the caller's prepared form of it,
   * opaque to the store); dropped with the entry, whatever removes or replaces it. Memory tiers only.
   */
  attach?(meta: EntryMeta, value: object): void;
  /**
   * The value attached to the only entry of `key` and that entry's body, when it is one contiguous buffer,
   * now, without a promise (touches its recency).
   */
  attachedSync?(key: string): { value: object; body: Buffer } | undefined;
  close(): Promise<void>;
}
