/**
 * Store admission: may this upstream response be stored (RFC 9111 §3, the size limit, worth keeping),
 * and if so the writer for its variant (RFC 9111 §4.1: variants bounded, those of another Vary dropped),
 * wrapped in the store tee.
 */
import type { EntryWriter, Store } from '../store/types.js';
import type { CachedEntry, StoredPolicy } from './stored-policy.js';
import type { Headers } from './cache-control.js';
import type { Clock, UpstreamReply } from './request.js';
import { canStore, makeStoredPolicy, type PolicyOptions } from './policy.js';
import { varyFieldNames, normaliseFieldValue, variantId } from './vary.js';
import { formatHttpDate } from './http-date.js';
import { StoreFill, type FillOptions } from './store-tee.js';
import { baseVariant, partialVariant, partOf, sameValidator, type Part } from './partial.js';

export interface AdmitContext {
  store: Store;
  clock: Clock;
  maxObjectSize: number;
  maxVariants: number;
  policyOptions(url: string, mode?: AdmitRequest['mode']): PolicyOptions;
  lookup(key: string): Promise<CachedEntry[]>;
  fillOptions(key: string): Omit<FillOptions, 'expectedSize'>;
}

export interface AdmitRequest {
  method: string;
  headers: Headers;
  resourceUrl: string;
  mode?: 'forward' | 'reverse' | 'intercept';
}

export interface Admission {
  fill?: StoreFill;
  /** the freshness state, when the response may be stored */
  policy?: StoredPolicy;
  /** why it is not stored (Cache-Status detail) */
  detail?: string;
}

export async function admit(
  ctx: AdmitContext, req: AdmitRequest, key: string, reply: UpstreamReply, requestTime: number, responseTime: number,
): Promise<Admission> {
  if (req.method !== 'GET' || reply.status === 304) return {};
  let part: Part | undefined;
  if (reply.status === 206) {
    // RFC 9111 §3.3: a cache MAY store an incomplete response, when it records that it is partial. A single
    // part with a known complete length is stored in its own slot (cache/partial.ts); multipart/byteranges
    // or an unknown length is not.
    part = partOf({ status: 206, headers: reply.pairs });
    if (!part) return { detail: 'partial-unplaceable' };
  }
  const opts = ctx.policyOptions(req.resourceUrl, req.mode);
  // a part is judged as the complete response it belongs to (§3.3: the same storage requirements apply)
  const judged = part ? { status: 200, headers: withoutFields(reply.headers, ['content-range']) } : { status: reply.status, headers: reply.headers };
  const verdict = canStore({ method: req.method, headers: part ? withoutFields(req.headers, ['range', 'if-range']) : req.headers }, judged, opts);
  if (!verdict.ok) return { detail: verdict.reason };
  const declared = reply.headers['content-length'];
  const cl = Number(declared);
  if (Number.isFinite(cl) && cl > ctx.maxObjectSize) return { detail: 'too-large' };
  const policy = makeStoredPolicy(judged, requestTime, responseTime, opts);
  if (useless(policy, reply)) return { detail: 'no-freshness' };
  const expectedSize = part ? part.end - part.start + 1 : Number.isFinite(cl) && declared !== undefined ? cl : undefined;
  const writer = await openWriter(ctx, req, key, reply, policy, expectedSize, part);
  if (!writer) return { policy };
  return { policy, fill: new StoreFill(writer, { ...ctx.fillOptions(key), expectedSize }) };
}

/**
 * A response with no freshness, no validator and no stale allowance could never be reused: not worth
 * storing. (The offline grace does not make it worth it: storing every such response, on every request, as
 * insurance against an outage would cost a disk write per request.)
 */
function useless(policy: StoredPolicy, reply: UpstreamReply): boolean {
  return policy.freshnessLifetime <= 0 && reply.headers.etag === undefined && reply.headers['last-modified'] === undefined
    && policy.staleIfError <= 0 && policy.staleWhileRevalidate <= 0;
}

async function openWriter(
  ctx: AdmitContext, req: AdmitRequest, key: string, reply: UpstreamReply, policy: StoredPolicy, expectedSize: number | undefined,
  part?: Part,
): Promise<EntryWriter | undefined> {
  const names = varyFieldNames(reply.headers);
  if (names === '*') return undefined;
  const values = names.map((n) => normaliseFieldValue(n, req.headers));
  const base = variantId(names, values);
  const variant = part ? partialVariant(base, part) : base;
  // keep the variant count bounded and drop variants stored under a different Vary
  const existing = await ctx.lookup(key);
  const sameVary = existing.filter((e) => e.vary.join(',') === names.join(','));
  for (const e of existing) {
    if (e.vary.join(',') !== names.join(',')) await ctx.store.delete(key, e.variant).catch(() => 0);
  }
  // stored parts of this variant: a complete response supersedes them all; a new part keeps those of the
  // same representation (§3.4: they may be combined with it), at most maxVariants of them
  const parts = sameVary.filter((e) => e.status === 206 && e.variant !== variant && baseVariant(e.variant) === base);
  const keptParts: typeof parts = [];
  for (const e of parts) {
    if (part && sameValidator(e.headers, reply.pairs)) keptParts.push(e);
    else await ctx.store.delete(key, e.variant).catch(() => 0);
  }
  keptParts.sort((a, b) => a.storedAt - b.storedAt);
  while (part && keptParts.length >= ctx.maxVariants) await ctx.store.delete(key, keptParts.shift()!.variant).catch(() => 0);
  const others = part ? [] : sameVary.filter((e) => e.variant !== variant && e.status !== 206).sort((a, b) => a.storedAt - b.storedAt);
  while (others.length >= ctx.maxVariants) {
    const old = others.shift()!;
    await ctx.store.delete(key, old.variant).catch(() => 0);
  }
  try {
    return ctx.store.write({
      key, variant, vary: names, varyValues: values, status: reply.status,
      headers: withDate(reply.pairs, policy.responseTime), policy, storedAt: ctx.clock(), expectedSize,
    });
  } catch {
    return undefined;
  }
}

function withoutFields(headers: Headers, names: string[]): Headers {
  const out: Headers = { ...headers };
  for (const n of names) delete out[n];
  return out;
}

/** RFC 9110 §6.6.1: a cache that stores a response without Date adds one (the time it was received). */
function withDate(pairs: [string, string][], responseTime: number): [string, string][] {
  if (pairs.some(([n]) => n.toLowerCase() === 'date')) return pairs;
  return [...pairs, ['Date', formatHttpDate(responseTime)]];
}
