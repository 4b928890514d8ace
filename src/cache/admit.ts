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
  if (req.method !== 'GET' || reply.status === 206 || reply.status === 304) return {};
  const opts = ctx.policyOptions(req.resourceUrl, req.mode);
  const verdict = canStore({ method: req.method, headers: req.headers }, { status: reply.status, headers: reply.headers }, opts);
  if (!verdict.ok) return { detail: verdict.reason };
  const declared = reply.headers['content-length'];
  const cl = Number(declared);
  if (Number.isFinite(cl) && cl > ctx.maxObjectSize) return { detail: 'too-large' };
  const policy = makeStoredPolicy({ status: reply.status, headers: reply.headers }, requestTime, responseTime, opts);
  if (useless(policy, reply)) return { detail: 'no-freshness' };
  const expectedSize = Number.isFinite(cl) && declared !== undefined ? cl : undefined;
  const writer = await openWriter(ctx, req, key, reply, policy, expectedSize);
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
): Promise<EntryWriter | undefined> {
  const names = varyFieldNames(reply.headers);
  if (names === '*') return undefined;
  const values = names.map((n) => normaliseFieldValue(n, req.headers));
  const variant = variantId(names, values);
  // keep the variant count bounded and drop variants stored under a different Vary
  const existing = await ctx.lookup(key);
  const sameVary = existing.filter((e) => e.vary.join(',') === names.join(','));
  for (const e of existing) {
    if (e.vary.join(',') !== names.join(',')) await ctx.store.delete(key, e.variant).catch(() => 0);
  }
  const others = sameVary.filter((e) => e.variant !== variant).sort((a, b) => a.storedAt - b.storedAt);
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

/** RFC 9110 §6.6.1: a cache that stores a response without Date adds one (the time it was received). */
function withDate(pairs: [string, string][], responseTime: number): [string, string][] {
  if (pairs.some(([n]) => n.toLowerCase() === 'date')) return pairs;
  return [...pairs, ['Date', formatHttpDate(responseTime)]];
}
