/**
 * Answering a GET from stored parts (RFC 9111 §3.3, §3.4), when no complete response is stored: serve a
 * range that one part covers (Cache-Status `hit`), combine parts that add up to the whole (`hit`), or ask
 * the origin only for the bytes after the stored run (`Range: bytes=N-` with If-Range, §3.4) and combine
 * them (`fwd=partial`). The combined response is committed to the store as the complete one (the parts are
 * then dropped by admission's rules) and served from there. The plan is cache/partial.ts; this is its I/O.
 * Undefined: nothing usable, the caller goes upstream as for any miss.
 */
import type { Store } from '../store/types.js';
import type { CachedEntry } from './stored-policy.js';
import type { CacheRequest, Clock, Outcome, UpstreamPort, UpstreamReply } from './request.js';
import type { CacheStatusParams } from '../http/cache-status.js';
import type { ExchangeError } from '../errors.js';
import { decideUse } from './policy.js';
import { variantMatches } from './vary.js';
import { removeRaw } from './header-pairs.js';
import { exchange, drain } from './upstream-exchange.js';
import { CONDITIONAL_FIELDS, type ServeParams } from './revalidate.js';
import { ifRangeAllows } from './range.js';
import {
  assemble, assembleSpan, baseVariant, combinedHeaders, compatiblePieces, ifRangeValue, partOf, planPartial, sameValidator,
  type Part, type Piece,
} from './partial.js';

export interface PartialCore {
  readonly store: Store;
  readonly upstream: UpstreamPort;
  readonly clock: Clock;
  readonly maxObjectSize: number;
  serve(req: CacheRequest, entry: CachedEntry, status: CacheStatusParams, how: ServeParams): Promise<Outcome | undefined>;
  servePiece(req: CacheRequest, entry: CachedEntry, part: Part, range: { start: number; end: number }, status: CacheStatusParams, now: number, source?: Pick<Store, 'read'>): Promise<Outcome | undefined>;
  deliver(req: CacheRequest, key: string, reply: UpstreamReply, requestTime: number, responseTime: number, status: CacheStatusParams): Promise<Outcome>;
  fail(error: ExchangeError, status: CacheStatusParams): Outcome;
}

/** Parts are combined in memory: at most this many bytes (or the object size limit, if smaller). */
export const MAX_COMBINE_BYTES = 16 * 1024 * 1024;

/** Request fields that keep the request away from stored parts (its own validation is the origin's to answer). */
const PRECONDITIONS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since'];

export async function answerFromParts(core: PartialCore, req: CacheRequest, key: string, entries: CachedEntry[], now: number): Promise<Outcome | undefined> {
  if (req.method !== 'GET' || PRECONDITIONS.some((f) => req.headers[f] !== undefined)) return undefined;
  const usable: Piece<CachedEntry>[] = [];
  for (const e of entries) {
    const part = partOf(e);
    if (!part) continue;
    if (e.vary.length > 0 && !variantMatches(e, req.headers)) continue;
    const d = decideUse(e.policy, req.headers, now);
    if (d.action !== 'serve' || d.stale) continue; // parts are used while fresh; a stale one is replaced by a new fetch
    usable.push({ entry: e, part });
  }
  if (usable.length === 0) return undefined;
  usable.sort((a, b) => b.entry.policy.responseTime - a.entry.policy.responseTime);
  const pieces = compatiblePieces(usable);
  const range = req.headers.range === undefined ? undefined : String(req.headers.range);
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && !ifRangeAllows(Array.isArray(ifRange) ? ifRange[0] : ifRange, pieces[0]!.entry.headers)) return undefined;
  const plan = planPartial(range, pieces, Math.min(core.maxObjectSize, MAX_COMBINE_BYTES));
  switch (plan.kind) {
    case 'miss': return undefined;
    case 'hit': return core.servePiece(req, plan.piece.entry, plan.piece.part, plan.range, { hit: true }, now);
    case 'run': {
      // adjoining parts hold the range together: served from their bytes, nothing asked of the origin
      const bodies = await readPieces(core.store, plan.pieces);
      const span = bodies && assembleSpan(bodies, plan.start, plan.end);
      if (!span) return undefined;
      const part: Part = { start: plan.start, end: plan.end, size: plan.pieces[0]!.part.size };
      return core.servePiece(req, newestOf(plan.pieces), part, plan.range, { hit: true }, now, { read: async (_m, r) => (r ? span.subarray(r.start, r.end + 1) : span) });
    }
    case 'combine': {
      const bodies = await readPieces(core.store, plan.pieces);
      const whole = bodies && assemble(bodies, plan.pieces[0]!.part.size);
      if (!whole) return undefined;
      const stored = await storeWhole(core, key, newestOf(plan.pieces), whole);
      return stored && core.serve(req, stored, { hit: true }, { now, stale: false, unvalidated: true, result: 'hit' });
    }
    case 'fetch-rest': return fetchRest(core, req, key, plan.pieces, plan.from, now);
  }
}

/** §3.4: ask for the bytes after the stored run, of the same representation (If-Range), and combine. */
async function fetchRest(core: PartialCore, req: CacheRequest, key: string, pieces: Piece<CachedEntry>[], from: number, now: number): Promise<Outcome | undefined> {
  const newest = newestOf(pieces);
  const size = pieces[0]!.part.size;
  const validator = ifRangeValue(newest.headers);
  if (validator === undefined) return undefined;
  const headers = removeRaw(req.upstreamHeaders, CONDITIONAL_FIELDS);
  headers.push('Range', `bytes=${from}-`, 'If-Range', validator);
  const r = await exchange(core.upstream, core.clock, { url: req.target, method: 'GET', headers, body: null }, req.notes);
  if (!r.ok) return core.fail(r.error, { fwd: 'partial', detail: r.error.detail });
  const reply = r.reply;
  // If-Range did not match: the origin sent the whole new representation; it replaces the parts
  if (reply.status === 200) return core.deliver(req, key, reply, r.requestTime, r.responseTime, { fwd: 'partial', fwdStatus: 200 });
  const got = reply.status === 206 ? partOf({ status: 206, headers: reply.pairs }) : undefined;
  if (!got || got.start !== from || got.end !== size - 1 || got.size !== size || !sameValidator(reply.pairs, newest.headers)) {
    await drain(reply);
    return undefined;
  }
  const rest = await readBody(reply, size - from);
  const bodies = rest && await readPieces(core.store, pieces);
  const whole = bodies && assemble([...bodies, { part: got, body: rest }], size);
  if (!whole) return undefined;
  // the newest head is the one just received (§3.4: its fields are used for the combined response)
  const stored = await storeWhole(core, key, { ...newest, headers: reply.pairs, policy: { ...newest.policy, requestTime: r.requestTime, responseTime: r.responseTime } }, whole);
  return stored && core.serve(req, stored, { fwd: 'partial', fwdStatus: 206, stored: true }, { now, stale: false, unvalidated: true });
}

function newestOf(pieces: Piece<CachedEntry>[]): CachedEntry {
  return pieces.reduce((a, b) => (b.entry.policy.responseTime > a.entry.policy.responseTime ? b : a)).entry;
}

async function readPieces(store: Store, pieces: Piece<CachedEntry>[]): Promise<{ part: Part; body: Buffer }[] | undefined> {
  const out: { part: Part; body: Buffer }[] = [];
  for (const p of pieces) {
    const src = await store.read(p.entry).catch(() => undefined);
    if (src === undefined) return undefined;
    if (Buffer.isBuffer(src)) { out.push({ part: p.part, body: src }); continue; }
    const chunks: Buffer[] = [];
    for await (const c of src) chunks.push(c as Buffer);
    out.push({ part: p.part, body: Buffer.concat(chunks) });
  }
  return out;
}

/** The body of an upstream reply of `expected` bytes, or undefined when it is not exactly that. */
async function readBody(reply: UpstreamReply, expected: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of reply.body) {
      n += (c as Buffer).length;
      if (n > expected) { reply.body.destroy(); return undefined; }
      chunks.push(c as Buffer);
    }
  } catch {
    return undefined;
  }
  return n === expected ? Buffer.concat(chunks) : undefined;
}

/** Commit the combined response as the complete one (status 200, the parts' variant). Undefined when the store refuses. */
async function storeWhole(core: PartialCore, key: string, head: CachedEntry, whole: Buffer): Promise<CachedEntry | undefined> {
  try {
    const writer = core.store.write({
      key, variant: baseVariant(head.variant), vary: head.vary, varyValues: head.varyValues, status: 200,
      headers: combinedHeaders(head.headers), policy: head.policy, storedAt: core.clock(), expectedSize: whole.length,
    });
    try {
      await writer.write(whole);
      const meta = await writer.commit() as CachedEntry;
      // the parts are superseded by the complete response
      for (const e of await core.store.lookup(key)) {
        if (e.status === 206 && baseVariant(e.variant) === meta.variant) await core.store.delete(key, e.variant).catch(() => 0);
      }
      return meta;
    } catch {
      writer.abort();
      return undefined;
    }
  } catch {
    return undefined;
  }
}
