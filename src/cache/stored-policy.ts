/**
 * The freshness state the cache keeps with each stored response (RFC 9111 §4.2), computed by policy.ts
 * when the response is stored. The store keeps it as opaque metadata (store/types EntryPolicy).
 */
import type { EntryMeta } from '../store/types.js';

/** Freshness state computed by cache/policy when the response was stored (JSON-serialisable). */
// a type alias, not an interface, so that it is assignable to the store's opaque EntryPolicy record
export type StoredPolicy = {
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
};

/** A stored entry as the cache sees it: the store's metadata with the cache's freshness state. */
export type CachedEntry = EntryMeta<StoredPolicy>;
