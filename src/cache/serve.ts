/**
 * Serving a stored response: Age (RFC 9111 §5.1), the client's own preconditions (RFC 9110 §13.2.2),
 * ranges (RFC 9110 §14), HEAD. The stored head is used as kept; only Age, Via, Cache-Status and
 * the framing fields are computed per hit.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { EntryMeta, Store, BodySource } from '../store/types.js';
import { finishResponseHeaders, type Exchange } from '../proxy/exchange.js';
import { currentAge } from './policy.js';
import { evaluatePreconditions } from './conditional.js';
import { parseRange, ifRangeAllows, contentRange, multipartByteranges, type RangeSpec } from './range.js';
import { parseCacheControl, fieldNames } from './cache-control.js';

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
  idleTimeoutMs: number;
  /** stored fields never sent (targeted cache-control fields addressed to this cache, RFC 9213) */
  omit?: ReadonlySet<string>;
}

export type ServeResult = 'served' | 'vanished';

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
interface ReadyHead { flat: string[]; via?: string; cacheStatus?: string }
const readyHeads = [new WeakMap<EntryMeta, ReadyHead>(), new WeakMap<EntryMeta, ReadyHead>()];

function readyHead(meta: EntryMeta, unvalidated: boolean, omit?: ReadonlySet<string>): ReadyHead {
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

export async function serveStored(ex: Exchange, store: Store, meta: EntryMeta, opts: ServeOptions): Promise<ServeResult> {
  const { res } = ex;
  const age = String(currentAge(meta.policy, opts.now));
  const plain = ex.reqHeaders.range === undefined && ex.reqHeaders['if-none-match'] === undefined && ex.reqHeaders['if-modified-since'] === undefined
    && ex.reqHeaders['if-match'] === undefined && ex.reqHeaders['if-unmodified-since'] === undefined;
  if (plain) return serveWhole(ex, store, meta, opts, age);
  const base = storedHeaderPairs(meta, opts.unvalidated, opts.omit);
  const precondition = evaluatePreconditions(ex.method, ex.reqHeaders, meta.headers, meta.status);
  if (precondition === 'not-modified') {
    const pairs = base.filter(([n]) => NOT_MODIFIED_FIELDS.has(n.toLowerCase()));
    pairs.push(['Age', age]);
    res.writeHead(304, finishResponseHeaders(pairs, opts.via, opts.cacheStatus));
    res.end();
    ex.record.status = 304;
    return 'served';
  }
  if (precondition === 'precondition-failed') {
    res.writeHead(412, finishResponseHeaders([['Content-Length', '0'], ['Age', age]], opts.via, opts.cacheStatus));
    res.end();
    ex.record.status = 412;
    return 'served';
  }

  const size = meta.size;
  let ranges: RangeSpec[] | undefined;
  if (meta.status === 200 && ex.method === 'GET' && ex.reqHeaders.range !== undefined) {
    const ifRange = ex.reqHeaders['if-range'];
    if (ifRange === undefined || ifRangeAllows(Array.isArray(ifRange) ? ifRange[0] : ifRange, meta.headers)) {
      const r = parseRange(String(ex.reqHeaders.range), size);
      if (r.kind === 'unsatisfiable') {
        const pairs = base.filter(([n]) => NOT_MODIFIED_FIELDS.has(n.toLowerCase()));
        pairs.push(['Content-Range', `bytes */${size}`], ['Content-Length', '0'], ['Age', age]);
        res.writeHead(416, finishResponseHeaders(pairs, opts.via, opts.cacheStatus));
        res.end();
        ex.record.status = 416;
        return 'served';
      }
      if (r.kind === 'ranges') ranges = r.ranges;
    }
  }

  const ct = contentTypeOf(meta);
  if (ct) ex.record.contentType = ct;
  const headOnly = ex.method === 'HEAD' || meta.status === 204 || meta.status === 304;

  if (ranges && ranges.length === 1) {
    const r = ranges[0]!;
    const body = headOnly ? undefined : await store.read(meta, r);
    if (!headOnly && body === undefined) return 'vanished';
    const pairs = [...base.filter(([n]) => n.toLowerCase() !== 'content-range'), ['Content-Range', contentRange(r, size)], ['Content-Length', String(r.end - r.start + 1)], ['Age', age]] as [string, string][];
    res.writeHead(206, finishResponseHeaders(pairs, opts.via, opts.cacheStatus));
    ex.record.status = 206;
    return sendBody(ex, body, opts.idleTimeoutMs);
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
    res.writeHead(206, finishResponseHeaders(pairs, opts.via, opts.cacheStatus));
    ex.record.status = 206;
    if (headOnly) { res.end(); return 'served'; }
    const stream = Readable.from((async function* () {
      for (const p of parts) {
        yield p.head;
        if (Buffer.isBuffer(p.body)) yield p.body;
        else for await (const c of p.body) yield c as Buffer;
      }
      yield mp.tail;
    })());
    return sendBody(ex, stream, opts.idleTimeoutMs);
  }

  return serveWhole(ex, store, meta, opts, age);
}

/** The whole stored response (the common hit): the ready head plus Age, Via and Cache-Status. */
async function serveWhole(ex: Exchange, store: Store, meta: EntryMeta, opts: ServeOptions, age: string): Promise<ServeResult> {
  const headOnly = ex.method === 'HEAD' || meta.status === 204 || meta.status === 304;
  const body = headOnly ? undefined : await store.read(meta);
  if (!headOnly && body === undefined) return 'vanished';
  const head = readyHead(meta, opts.unvalidated, opts.omit);
  const flat = head.flat.slice();
  flat.push('Age', age, 'Via', head.via ? `${head.via}, ${opts.via}` : opts.via,
    'Cache-Status', head.cacheStatus ? `${head.cacheStatus}, ${opts.cacheStatus}` : opts.cacheStatus);
  ex.record.contentType ??= contentTypeOf(meta);
  ex.res.writeHead(meta.status, flat);
  ex.record.status = meta.status;
  return sendBody(ex, body, opts.idleTimeoutMs);
}

function contentTypeOf(meta: EntryMeta): string | undefined {
  for (const [n, v] of meta.headers) if (n.length === 12 && n.toLowerCase() === 'content-type') return v;
  return undefined;
}

async function sendBody(ex: Exchange, body: BodySource | undefined, idleTimeoutMs: number): Promise<ServeResult> {
  const { res } = ex;
  if (body === undefined) { res.end(); return 'served'; }
  if (Buffer.isBuffer(body)) {
    ex.record.bytesSent += body.length;
    res.end(body);
    return 'served';
  }
  res.setTimeout(idleTimeoutMs, () => res.destroy());
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      ex.record.bytesSent += chunk.length;
      if (!res.write(chunk)) {
        await Promise.race([once(res, 'drain'), once(res, 'close')]);
        if (res.destroyed) { body.destroy(); ex.record.aborted = true; return 'served'; }
      }
    }
    res.end();
  } catch {
    // a body that failed its length/digest check mid-stream: cut the connection, never pretend it is complete
    ex.record.aborted = true;
    res.destroy();
  }
  return 'served';
}
