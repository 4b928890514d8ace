/**
 * What the cache engine is given and what it gives back: a request description in, a decision out
 * (serve a stored response, deliver an upstream one, or an error value). No socket on either side: the
 * proxy layer turns an Outcome into writes on the client connection.
 */
import type { Readable } from 'node:stream';
import type { BodySource } from '../store/types.js';
import type { ExchangeError } from '../errors.js';
import type { CacheResult } from '../log/record.js';
import type { Headers } from './cache-control.js';
import type { StoreFill } from './store-tee.js';

/** ms since the epoch; injected so that tests can move time without sleeping */
export type Clock = () => number;

/** Facts about the request the engine learns on the way (the access record takes them). */
export interface RequestNotes {
  collapsed?: boolean;
  rule?: string;
  upstreamMs?: number;
  upstreamAddress?: string;
  upstreamError?: string;
}

export interface CacheRequest {
  method: string;
  /** where the request goes upstream */
  target: URL;
  /** absolute URL naming the resource (the cache key's basis) */
  resourceUrl: string;
  /** the client's header fields, lower-case names */
  headers: Headers;
  /** flat raw header array prepared for upstream (hop-by-hop removed, Host set, Via appended) */
  upstreamHeaders: string[];
  /** the request body to forward, null when there is none */
  body: Readable | null;
  /** how the request reached the cache: forward proxying, reverse (larder is the origin's gateway), intercepted TLS */
  mode: 'forward' | 'reverse' | 'intercept';
  /** the client's HTTP version ('1.0' or '1.1'), for Via */
  httpVersion: string;
  /** aborted when the client goes away before its response is complete */
  clientGone?: AbortSignal;
  /** relays an interim (1xx) response to the client; never stored (RFC 9110 §15.2) */
  interim?: (status: number, headers: Headers) => void;
  notes: RequestNotes;
}

export interface UpstreamRequest {
  url: URL;
  method: string;
  headers: string[];
  body?: Readable | null;
  signal?: AbortSignal;
  /** an interim (1xx) response head from the origin, before the final one (RFC 9110 §15.2) */
  onInterim?: (status: number, headers: Headers) => void;
}

/** An upstream response head with its body stream. */
export interface UpstreamReply {
  status: number;
  /** lower-case names; repeats as arrays */
  headers: Headers;
  /** the end-to-end fields as pairs (hop-by-hop removed), what is stored and sent on */
  pairs: [string, string][];
  body: Readable;
  /** host:port of the upstream */
  address: string;
}

/** How the engine reaches the origin; rejects with an ExchangeError. */
export interface UpstreamPort {
  request(req: UpstreamRequest): Promise<UpstreamReply>;
  /** Classify an error raised while the body was read. */
  classify(err: unknown, url: URL): ExchangeError;
}

interface Decided {
  /** the Cache-Status entry of this cache (RFC 9211) */
  cacheStatus: string;
  /** the access-log result */
  result: CacheResult;
}

/** Serve from the store (a whole or partial response, 304, 412, 416): the head is complete. */
export interface StoredOutcome extends Decided {
  kind: 'stored';
  status: number;
  /** flat header array, Age, Via and Cache-Status included */
  headers: string[];
  /** undefined: no body (HEAD, 304, 204, ...) */
  body?: BodySource;
  contentType?: string;
}

/** Deliver an upstream response, its body teed into `fill` when it is being stored. */
export interface UpstreamOutcome extends Decided {
  kind: 'upstream';
  reply: UpstreamReply;
  /** flat header array, Via and Cache-Status included */
  headers: string[];
  fill?: StoreFill;
  /** Called once by the deliverer when the body went through (or failed). */
  settle(result: { error?: unknown }): void;
}

export interface ErrorOutcome extends Decided {
  kind: 'error';
  error: ExchangeError;
}

export type Outcome = StoredOutcome | UpstreamOutcome | ErrorOutcome;
