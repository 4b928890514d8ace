/**
 * Validation (RFC 9111 §4.3): the conditional request for a stored response, the 304 that freshens it
 * (§4.3.4), a HEAD that freshens or invalidates it (§4.3.5), stale-if-error (RFC 5861 §4) and the offline
 * grace (§4.2.4) when the origin fails, and the background refresh of stale-while-revalidate (RFC 5861 §3).
 */
import type { Store } from '../store/types.js';
import { CodedError, UpstreamFailure, type ExchangeError } from '../errors.js';
import type { CachedEntry } from './stored-policy.js';
import type { CacheRequest, Clock, Outcome, UpstreamPort, UpstreamReply } from './request.js';
import type { CacheStatusParams } from '../http/cache-status.js';
import { makeStoredPolicy, canServeStaleOnError, canServeStaleOffline, ttl as ttlOf, currentAge } from './policy.js';
import { validatorsFor, selectedBy304, updateHeaders } from './conditional.js';
import { pairsToObject, removeRaw } from './header-pairs.js';
import { exchange, drain } from './upstream-exchange.js';
import { admit, type AdmitContext } from './admit.js';

/** Request fields that make a GET conditional or partial: such requests are forwarded as they are on a miss. */
export const CONDITIONAL_FIELDS: ReadonlySet<string> = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);

export type Finish = (r: { stored: boolean }) => void;

export interface ServeParams {
  now: number;
  /** served stale (the access log says so) */
  stale: boolean;
  /** served without revalidation (no-cache="field" names stripped) */
  unvalidated: boolean;
  /** the access-log result, when it is not implied by the Cache-Status */
  result?: 'stale' | 'revalidated' | 'hit';
}

/** What validation needs from the engine. */
export interface ValidationCore extends AdmitContext {
  readonly upstream: UpstreamPort;
  readonly clock: Clock;
  readonly store: Store;
  readonly offlineGraceMs: number;
  readonly shareSetCookie: boolean;
  readonly events: { revalidation?(o: 'not-modified' | 'modified' | 'error'): void; offline?(url: string, ageSeconds: number): void };
  select(entries: CachedEntry[], headers: CacheRequest['headers']): CachedEntry | undefined;
  serve(req: CacheRequest, entry: CachedEntry, status: CacheStatusParams, how: ServeParams): Promise<Outcome | undefined>;
  deliver(req: CacheRequest, key: string, reply: UpstreamReply, requestTime: number, responseTime: number, status: CacheStatusParams, finish?: Finish): Promise<Outcome>;
  fetch(req: CacheRequest, key: string, status: CacheStatusParams, headers: string[], finish?: Finish): Promise<Outcome>;
  fail(error: ExchangeError, status: CacheStatusParams): Outcome;
}

export function conditionalHeaders(req: CacheRequest, entry: CachedEntry): string[] {
  const headers = removeRaw(req.upstreamHeaders, CONDITIONAL_FIELDS);
  for (const [k, v] of Object.entries(validatorsFor(entry.headers))) headers.push(k, v);
  return headers;
}

/** Ask the origin whether the stored response is still good, and answer with it or with the new one. */
export async function revalidateNow(core: ValidationCore, req: CacheRequest, key: string, entry: CachedEntry, finish?: Finish): Promise<Outcome> {
  const r = await exchange(core.upstream, core.clock, { url: req.target, method: req.method, headers: conditionalHeaders(req, entry), body: req.body, onInterim: req.interim }, req.notes);
  if (!r.ok) {
    core.events.revalidation?.('error');
    const stale = await serveStaleOnFailure(core, req, entry, r.error);
    if (stale) return stale;
    if (entry.policy.mustRevalidate && !(r.error instanceof CodedError)) {
      return core.fail(new UpstreamFailure('timeout', `stored response must be revalidated and ${r.error.message}`, r.error.detail), { fwd: 'stale', detail: r.error.detail });
    }
    return core.fail(r.error, { fwd: 'stale', detail: r.error.detail });
  }
  const { reply, requestTime, responseTime } = r;
  if (reply.status === 304) {
    await drain(reply);
    if (selectedBy304(entry.headers, reply.headers)) {
      const updated = await applyNotModified(core, key, entry, reply, requestTime, responseTime, req.resourceUrl, req.mode);
      core.events.revalidation?.('not-modified');
      finish?.({ stored: true });
      const now = core.clock();
      const out = await core.serve(req, updated, { fwd: 'stale', fwdStatus: 304, ttl: ttlOf(updated.policy, now) }, { now, stale: false, unvalidated: false, result: 'revalidated' });
      if (out) return out;
    }
    // the 304 does not describe what we hold: fetch the full response unconditionally
    return core.fetch(req, key, { fwd: 'stale' }, removeRaw(req.upstreamHeaders, CONDITIONAL_FIELDS), finish);
  }
  // a 5xx is a real answer: it goes to the client as it is, unless stale-if-error allows the stored one
  // (RFC 9111 §4.2.4 asks for a 504 only when the origin cannot be reached at all)
  if (reply.status >= 500) {
    const stale = await serveStaleOnFailure(core, req, entry, undefined, reply);
    if (stale) return stale;
  }
  if (req.method === 'HEAD') await headUpdatesStored(core, req, key, reply, requestTime, responseTime);
  core.events.revalidation?.('modified');
  return core.deliver(req, key, reply, requestTime, responseTime, { fwd: 'stale', fwdStatus: reply.status }, finish);
}

/** §4.3.4: freshen the stored response with the 304's fields. */
export async function applyNotModified(
  core: Pick<ValidationCore, 'store' | 'shareSetCookie' | 'policyOptions'>,
  key: string, entry: CachedEntry, reply: UpstreamReply, requestTime: number, responseTime: number, url: string,
  mode?: 'forward' | 'reverse' | 'intercept',
): Promise<CachedEntry> {
  const headers = updateHeaders(entry.headers, reply.headers, { shareSetCookie: core.shareSetCookie });
  const policy = makeStoredPolicy({ status: entry.status, headers: pairsToObject(headers) }, requestTime, responseTime, core.policyOptions(url, mode));
  const updated: CachedEntry = { ...entry, key, headers, policy };
  await core.store.update(updated).catch(() => undefined);
  return updated;
}

/**
 * The stored response instead of an upstream failure: RFC 5861 stale-if-error (on a failure or a 5xx), or
 * the offline grace (RFC 9111 §4.2.4, only when the origin could not be reached or closed without answering).
 */
async function serveStaleOnFailure(
  core: ValidationCore, req: CacheRequest, entry: CachedEntry, error: ExchangeError | undefined, reply?: UpstreamReply,
): Promise<Outcome | undefined> {
  const now = core.clock();
  let params: CacheStatusParams | undefined;
  if (canServeStaleOnError(entry.policy, req.headers, now)) {
    params = { fwd: 'stale', fwdStatus: reply?.status, ttl: ttlOf(entry.policy, now), detail: 'stale-if-error' };
  } else if (error instanceof UpstreamFailure && error.disconnected && canServeStaleOffline(entry.policy, now, core.offlineGraceMs)) {
    params = { fwd: 'stale', ttl: ttlOf(entry.policy, now), detail: `offline:${error.detail}` };
    core.events.offline?.(req.resourceUrl, currentAge(entry.policy, now));
  }
  if (!params) return undefined;
  if (reply) await drain(reply);
  return core.serve(req, entry, params, { now, stale: true, unvalidated: true, result: 'stale' });
}

/** stale-while-revalidate: refresh once in the background, no client attached. */
export async function refreshInBackground(core: ValidationCore, req: CacheRequest, key: string, entry: CachedEntry): Promise<void> {
  const method = 'GET';
  const r = await exchange(core.upstream, core.clock, { url: req.target, method, headers: conditionalHeaders(req, entry) });
  if (!r.ok) { core.events.revalidation?.('error'); return; }
  const { reply, requestTime, responseTime } = r;
  try {
    if (reply.status === 304) {
      await drain(reply);
      if (selectedBy304(entry.headers, reply.headers)) await applyNotModified(core, key, entry, reply, requestTime, responseTime, req.resourceUrl, req.mode);
      core.events.revalidation?.('not-modified');
      return;
    }
    const { fill } = reply.status >= 500 ? {} : await admit(core, { method, headers: req.headers, resourceUrl: req.resourceUrl, mode: req.mode }, key, reply, requestTime, responseTime);
    if (!fill) { await drain(reply); return; }
    try {
      for await (const chunk of reply.body as AsyncIterable<Buffer>) await fill.write(chunk);
      await fill.commit();
      if (await fill.settled) core.events.revalidation?.('modified');
    } catch {
      fill.abort();
    }
  } catch {
    core.events.revalidation?.('error');
  }
}

/** §4.3.5: a HEAD response freshens (or invalidates) the stored GET it describes. */
export async function headUpdatesStored(
  core: ValidationCore, req: CacheRequest, key: string, reply: UpstreamReply, requestTime: number, responseTime: number,
): Promise<void> {
  if (reply.status !== 200) return;
  const entry = core.select(await core.lookup(key), req.headers);
  if (!entry) return;
  const hasValidator = reply.headers.etag !== undefined || reply.headers['last-modified'] !== undefined;
  if (hasValidator && selectedBy304(entry.headers, reply.headers)) {
    await applyNotModified(core, key, entry, reply, requestTime, responseTime, req.resourceUrl, req.mode);
  } else if (hasValidator) {
    await core.store.delete(key, entry.variant).catch(() => 0);
  }
}

