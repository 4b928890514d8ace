/**
 * The Store interface: what every tier (memory, lmdb disk, redis, tiered) implements.
 * A store knows nothing of HTTP semantics: it keeps entries (metadata + body bytes) under a primary key
 * and a variant id, and makes a new entry visible only once its body was written completely.
 */
import type { Readable } from 'node:stream';

/** Freshness state computed by cache/policy when the response was stored (JSON-serialisable). */
export interface StoredPolicy {
  /** RFC 9111 §4.2.3 corrected_initial_age, seconds */
  correctedInitialAge: number;
  /** ms since epoch when the response was received (response_time) */
  responseTime: number;
  /** ms since epoch when the request was sent (request_time) */
  requestTime: number;
  /** freshness lifetime in seconds (§4.2.1), explicit or heuristic */
  freshnessLifetime: number;
  /** true when freshnessLifetime came from a heuristic or a refresh rule, not from the response */
  heuristic: boolean;
  /** name of the refresh rule that set the freshness, if any */
  rule?: string;
  /** must-revalidate or proxy-revalidate or s-maxage present (§4.2.4: no stale serving) */
  mustRevalidate: boolean;
  /** response no-cache without field names: always revalidate */
  noCache: boolean;
  /** seconds of stale-while-revalidate (RFC 5861), 0 when absent */
  staleWhileRevalidate: number;
  /** seconds of stale-if-error (RFC 5861), 0 when absent */
  staleIfError: number;
  immutable: boolean;
  /** rule allows offline grace even for must-revalidate/no-cache */
  offlineOverride?: boolean;
}

export interface EntryMeta {
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
  policy: StoredPolicy;
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
  close(): Promise<void>;
}
