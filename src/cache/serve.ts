/**
 * Serving a stored response: Age (RFC 9111 §5.1), the client's own preconditions (RFC 9110 §13.2.2),
 * ranges (RFC 9110 §14), HEAD. The stored head is used as kept; only Age, Via, Cache-Status and
 * the framing fields are computed per hit. Builds the complete head and fetches the body from the store;
 * writing them is the proxy layer's job.
 */
import { Readable } from 'node:stream';
import type { EntryMeta, Store, BodySource } from '../store/types.js';
import type { CachedEntry } from './stored-policy.js';
import type { Headers } from './cache-control.js';
import { finishResponseHeaders } from './response-head.js';
import { currentAge } from './policy.js';
import { evaluatePreconditions } from './conditional.js';
import { parseRange, ifRangeAllows, contentRange, multipartByteranges, type RangeSpec } from './range.js';
import { parseCacheControl, fieldNames } from './cache-control.js';
import type { Part } from './partial.js';

/** Fields a 304 from a cache carries (RFC 9110 §15.4.5). */
const NOT_MODIFIED_FIELDS = new Set(['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified']);
// a stored Content-Range is sent with the whole response as received (RFC 9111 §3.1), replaced in a 206
const FRAMING = new Set(['content-length', 'transfer-encoding', 'age']);

export interface ServeOptions {
  via: string;
  cacheStatus: string;
  now: number;
  /** the response is served without revalidation: strip no-cache="field" / private="field" names */
  unvalidated: boolean;
  /** stored fields never sent (targeted cache-control fields addressed to this cache, RFC 9213) */
  omit?: ReadonlySet<string>;
}

/** A stored response ready to send: the complete head, and the body from the store (undefined: none). */
export interface StoredResponse {
  status: number;
  headers: string[];
  body?: BodySource;
  contentType?: string;
}

/** The request as far as serving a stored response depends on it. */
export interface ServeRequest {
  method: string;
  headers: Headers;
}

function storedHeaderPairs(meta: EntryMeta, unvalidated: boolean, omit?: ReadonlySet<string>): [string, string][] {
  let strip: Set<string> | undefined;
  if (unvalidated) {
    for (const [name, value] of meta.headers) {
      if (name.toLowerCase() === 'cache-control' && value.includes('=')) {
        const cc = parseCacheControl(value);
        for (const d of ['no-cache', 'private']) {
          const v = cc.get(d);
          if (typeof v === 'string') for (const f of fieldNames(v)) (strip ??= new Set()).add(f.toLowerCase());
        }
      }
    }
  }
  const out: [string, string][] = [];
  for (const pair of meta.headers) {
    const lower = pair[0].toLowerCase();
    if (FRAMING.has(lower) || strip?.has(lower) || omit?.has(lower)) continue;
    out.push(pair);
  }
  return out;
}

/**
 * The head of a stored response made ready once per entry (DESIGN: a hit needs little work): the header
 * fields as a flat array with Content-Length, and the upstream Via / Cache-Status values this proxy appends
 * to. Per hit only Age, Via and Cache-Status are added. Keyed by the (immutable) meta object.
 */
export interface ReadyHead { flat: string[]; via?: string; cacheStatus?: string }
const readyHeads = [new WeakMap<EntryMeta, ReadyHead>(), new WeakMap<EntryMeta, ReadyHead>()];

export function readyHead(meta: EntryMeta, unvalidated: boolean, omit?: ReadonlySet<string>): ReadyHead {
  const cache = readyHeads[unvalidated ? 1 : 0]!;
  let head = cache.get(meta);
  if (head) return head;
  head = { flat: [] };
  for (const [name, value] of storedHeaderPairs(meta, unvalidated, omit)) {
    const lower = name.toLowerCase();
    if (lower === 'via') head.via = head.via ? `${head.via}, ${value}` : value;
    else if (lower === 'cache-status') head.cacheStatus = head.cacheStatus ? `${head.cacheStatus}, ${value}` : value;
    else head.flat.push(name, value);
  }
  if (!(meta.status === 204 || meta.status === 304)) head.flat.push('Content-Length', String(meta.size));
  cache.set(meta, head);
  return head;
}

/** The response to send from a stored entry, or 'vanished' when its body is gone (the caller then treats it as a miss). */
export async function serveStored(req: ServeRequest, store: Store, meta: CachedEntry, opts: ServeOptions): Promise<StoredResponse | 'vanished'> {
  const h = req.headers;
  const age = String(currentAge(meta.policy, opts.now));
  const plain = h.range === undefined && h['if-none-match'] === undefined && h['if-modified-since'] === undefined
    && h['if-match'] === undefined && h['if-unmodified-since'] === undefined;
  if (plain) return serveWhole(req, store, meta, opts, age);
  const base = storedHeaderPairs(meta, opts.unvalidated, opts.omit);
  const precondition = evaluatePreconditions(req.method, h, meta.headers, meta.status);
  if (precondition === 'not-modified') {
    const pairs = base.filter(([n]) => NOT_MODIFIED_FIELDS.has(n.toLowerCase()));
    pairs.push(['Age', age]);
    return { status: 304, headers: finishResponseHeaders(pairs, opts.via, opts.cacheStatus) };
  }
  if (precondition === 'precondition-failed') {
    return { status: 412, headers: finishResponseHeaders([['Content-Length', '0'], ['Age', age]], opts.via, opts.cacheStatus) };
  }

  const size = meta.size;
  let ranges: RangeSpec[] | undefined;
  if (meta.status === 200 && req.method === 'GET' && h.range !== undefined) {
    const ifRange = h['if-range'];
    if (ifRange === undefined || ifRangeAllows(Array.isArray(ifRange) ? ifRange[0] : ifRange, meta.headers)) {
      const r = parseRange(String(h.range), size);
      if (r.kind === 'unsatisfiable') {
        const pairs = base.filter(([n]) => NOT_MODIFIED_FIELDS.has(n.toLowerCase()));
        pairs.push(['Content-Range', `bytes */${size}`], ['Content-Length', '0'], ['Age', age]);
        return { status: 416, headers: finishResponseHeaders(pairs, opts.via, opts.cacheStatus) };
      }
      if (r.kind === 'ranges') ranges = r.ranges;
    }
  }

  const ct = contentTypeOf(meta);
  const headOnly = req.method === 'HEAD' || meta.status === 204 || meta.status === 304;

  if (ranges && ranges.length === 1) {
    const r = ranges[0]!;
    const body = headOnly ? undefined : await store.read(meta, r);
    if (!headOnly && body === undefined) return 'vanished';
    const pairs = [...base.filter(([n]) => n.toLowerCase() !== 'content-range'), ['Content-Range', contentRange(r, size)], ['Content-Length', String(r.end - r.start + 1)], ['Age', age]] as [string, string][];
    return { status: 206, headers: finishResponseHeaders(pairs, opts.via, opts.cacheStatus), body, contentType: ct };
  }
  if (ranges && ranges.length > 1) {
    const mp = multipartByteranges(ranges, size, ct);
    const parts: { head: Buffer; body: BodySource }[] = [];
    if (!headOnly) {
      for (const p of mp.parts) {
        const b = await store.read(meta, p.range);
        if (b === undefined) return 'vanished';
        parts.push({ head: p.head, body: b });
      }
    }
    const pairs = base.filter(([n]) => n.toLowerCase() !== 'content-type' && n.toLowerCase() !== 'content-range');
    pairs.push(['Content-Type', `multipart/byteranges; boundary=${mp.boundary}`], ['Content-Length', String(mp.length)], ['Age', age]);
    const headers = finishResponseHeaders(pairs, opts.via, opts.cacheStatus);
    if (headOnly) return { status: 206, headers, contentType: ct };
    const body = Readable.from((async function* () {
      for (const p of parts) {
        yield p.head;
        if (Buffer.isBuffer(p.body)) yield p.body;
        else for await (const c of p.body) yield c as Buffer;
      }
      yield mp.tail;
    })());
    return { status: 206, headers, body, contentType: ct };
  }

  return serveWhole(req, store, meta, opts, age);
}

/** The whole stored response (the common hit): the ready head plus Age, Via and Cache-Status. */
async function serveWhole(req: ServeRequest, store: Store, meta: CachedEntry, opts: ServeOptions, age: string): Promise<StoredResponse | 'vanished'> {
  const headOnly = req.method === 'HEAD' || meta.status === 204 || meta.status === 304;
  const body = headOnly ? undefined : await store.read(meta);
  if (!headOnly && body === undefined) return 'vanished';
  const head = readyHead(meta, opts.unvalidated, opts.omit);
  const flat = head.flat.slice();
  flat.push('Age', age, 'Via', head.via ? `${head.via}, ${opts.via}` : opts.via,
    'Cache-Status', head.cacheStatus ? `${head.cacheStatus}, ${opts.cacheStatus}` : opts.cacheStatus);
  return { status: meta.status, headers: flat, body, contentType: contentTypeOf(meta) };
}

function contentTypeOf(meta: EntryMeta): string | undefined {
  for (const [n, v] of meta.headers) if (n.length === 12 && n.toLowerCase() === 'content-type') return v;
  return undefined;
}

/**
 * A range served from a stored part (RFC 9111 §3.3): `entry` is a stored 206 holding bytes
 * `part.start`-`part.end` of a representation of `part.size` bytes, and `range` lies within them.
 * The stored head is sent with a Content-Range for the requested range. `store` may be a run of adjoining
 * parts assembled in memory (its bytes then start at `part.start`).
 */
export async function servePart(req: ServeRequest, store: Pick<Store, 'read'>, entry: CachedEntry, part: Part, range: RangeSpec, opts: ServeOptions): Promise<StoredResponse | 'vanished'> {
  const age = String(currentAge(entry.policy, opts.now));
  const headOnly = req.method === 'HEAD';
  const body = headOnly ? undefined : await store.read(entry, { start: range.start - part.start, end: range.end - part.start });
  if (!headOnly && body === undefined) return 'vanished';
  const pairs = storedHeaderPairs(entry, opts.unvalidated, opts.omit).filter(([n]) => n.toLowerCase() !== 'content-range');
  pairs.push(['Content-Range', contentRange(range, part.size)], ['Content-Length', String(range.end - range.start + 1)], ['Age', age]);
  return { status: 206, headers: finishResponseHeaders(pairs, opts.via, opts.cacheStatus), body, contentType: contentTypeOf(entry) };
}
