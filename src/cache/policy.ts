/**
 * RFC 9111 decisions for a *shared* cache: may a response be stored, how long is it fresh, may a stored
 * response be used for a request. Pure functions, no I/O; times are ms since the epoch, ages in seconds.
 * https://www.rfc-editor.org/rfc/rfc9111
 */
import type { StoredPolicy } from './stored-policy.js';
import {
  conflictingDirectives, deltaSeconds, fieldNames, firstValue, joinedValue, parseCacheControl, targetedResponse,
  type Directives, type Headers,
} from './cache-control.js';
import { parseHttpDate } from './http-date.js';
import { varyFieldNames } from './vary.js';

export type { Headers } from './cache-control.js';

export interface RuleParams { name: string; minSeconds: number; percent: number; maxSeconds: number; immutable: boolean; offlineOverride: boolean }
export interface PolicyOptions {
  shareSetCookie: boolean; heuristicPercent: number; heuristicMaxSeconds: number; rule?: RuleParams;
  /** targeted cache-control fields this cache obeys, in order (RFC 9213), lower-case; none when absent */
  targeted?: readonly string[];
}
export interface RequestInfo { method: string; headers: Headers }
export interface ResponseInfo { status: number; headers: Headers }

/**
 * Status codes that are heuristically cacheable: https://www.rfc-editor.org/rfc/rfc9110#section-15.1
 * (206 is in the list but partial responses are not stored as full entries here.)
 */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501]);

/**
 * Status codes whose caching semantics this cache understands (for must-understand,
 * https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.3): the final codes defined by RFC 9110 that can be
 * stored as a complete response. 206 and 304 are excluded: they are never stored as entries here.
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 421, 422, 426,
  500, 501, 502, 503, 504, 505,
]);

const NOT_STORED = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

function responseDirectives(res: { headers: Headers }): Directives {
  return parseCacheControl(res.headers['cache-control']);
}

/** Explicit expiration present: https://www.rfc-editor.org/rfc/rfc9111#section-3 (Expires, max-age, s-maxage). */
function hasExplicitExpiration(cc: Directives, res: ResponseInfo): boolean {
  return cc.has('s-maxage') || cc.has('max-age') || firstValue(res.headers, 'expires') !== undefined;
}

/** Storing responses: https://www.rfc-editor.org/rfc/rfc9111#section-3 */
export function canStore(req: RequestInfo, res: ResponseInfo, opts: PolicyOptions): { ok: true } | { ok: false; reason: string } {
  res = targetedResponse(res, opts.targeted); // RFC 9213 §2.2: a valid targeted field replaces Cache-Control and Expires
  // "the request method is understood by the cache": GET only; HEAD is handled by the engine on its own.
  if (req.method !== 'GET') return NOT_STORED('method');
  const status = res.status;
  // "the response status code is final" (https://www.rfc-editor.org/rfc/rfc9110#section-15)
  if (!Number.isInteger(status) || status < 200 || status > 599) return NOT_STORED('status');
  // 206 and 304 are not complete responses (https://www.rfc-editor.org/rfc/rfc9111#section-3.3, §4.3.4)
  if (status === 206 || status === 304) return NOT_STORED('partial-or-not-modified');
  // a 200 with Content-Range is stored with it (§3.1), unless it answers a Range request: then it may be an
  // origin that sends a part with the wrong status, and a part must never be stored as the whole
  if (req.headers['range'] !== undefined && firstValue(res.headers, 'content-range') !== undefined) return NOT_STORED('content-range');

  const cc = responseDirectives(res);
  const reqCc = parseCacheControl(req.headers['cache-control']);

  // must-understand: store only when the status code is understood, and then no-store is ignored
  // (https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.3)
  const mustUnderstand = cc.has('must-understand');
  if (mustUnderstand && !UNDERSTOOD_STATUSES.has(status)) return NOT_STORED('must-understand');
  // no-store in the response (§5.2.2.5) — unless must-understand with an understood status
  if (cc.has('no-store') && !mustUnderstand) return NOT_STORED('no-store');
  // no-store in the request (https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1.5)
  if (reqCc.has('no-store')) return NOT_STORED('request-no-store');
  // private: a shared cache MUST NOT store it (https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.7).
  // Qualified private="field" would allow storing the rest; we choose the safe reading and do not store.
  if (cc.has('private')) return NOT_STORED('private');
  // Authorization: a shared cache stores only with public, s-maxage or must-revalidate
  // (https://www.rfc-editor.org/rfc/rfc9111#section-3.5)
  if (req.headers['authorization'] !== undefined &&
      !(cc.has('public') || cc.has('s-maxage') || cc.has('must-revalidate'))) {
    return NOT_STORED('authorization');
  }
  // Vary: * never matches a later request (https://www.rfc-editor.org/rfc/rfc9111#section-4.1)
  if (varyFieldNames(res.headers) === '*') return NOT_STORED('vary-star');
  // Set-Cookie: a product safety default (DESIGN invariant 6) — one client's cookie is not handed to
  // another unless the origin said `public` or the operator enabled shareSetCookie.
  if (res.headers['set-cookie'] !== undefined && !cc.has('public') && !opts.shareSetCookie) {
    return NOT_STORED('set-cookie');
  }
  // must contain explicit freshness, public, or have a heuristically cacheable status
  // (https://www.rfc-editor.org/rfc/rfc9111#section-3; heuristics §4.2.2). A refresh rule does not widen
  // the set of statuses: it only changes the heuristic.
  if (hasExplicitExpiration(cc, res) || cc.has('public') || HEURISTIC_STATUSES.has(status)) return { ok: true };
  return NOT_STORED('no-freshness');
}

/** Explicit or heuristic freshness lifetime in seconds: https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1 */
function freshness(res: ResponseInfo, cc: Directives, responseTime: number, opts: PolicyOptions):
  { lifetime: number; heuristic: boolean; rule?: string; immutable: boolean } {
  const conflicts = conflictingDirectives(res.headers['cache-control']);
  // shared caches: s-maxage first (§5.2.2.10), then max-age (§5.2.2.1). An invalid value (negative,
  // non-integer, quoted garbage) or conflicting duplicates → stale (§4.2.1 "encouraged to consider ... stale").
  for (const name of ['s-maxage', 'max-age']) {
    if (!cc.has(name)) continue;
    const secs = deltaSeconds(cc.get(name));
    if (secs === undefined || conflicts.has(name)) return { lifetime: 0, heuristic: false, immutable: false };
    return { lifetime: secs, heuristic: false, immutable: false };
  }
  const dateValue = parseHttpDate(firstValue(res.headers, 'date')) ?? responseTime;
  const expiresField = res.headers['expires'];
  if (expiresField !== undefined) {
    // https://www.rfc-editor.org/rfc/rfc9111#section-5.3: an invalid Expires (e.g. "0") means already expired.
    // Several differing Expires lines → stale (§4.2.1).
    const values = Array.isArray(expiresField) ? expiresField : [expiresField];
    const expires = parseHttpDate(values[0], { lenient: true }); // names in any case (RFC 9110 §5.6.7 robustness)
    if (expires === undefined || values.some((v) => v !== values[0])) return { lifetime: 0, heuristic: false, immutable: false };
    return { lifetime: Math.max(0, Math.floor((expires - dateValue) / 1000)), heuristic: false, immutable: false };
  }
  // Heuristic freshness (https://www.rfc-editor.org/rfc/rfc9111#section-4.2.2): only without explicit
  // expiration, and only for heuristically cacheable statuses or responses marked public.
  if (!HEURISTIC_STATUSES.has(res.status) && !cc.has('public')) return { lifetime: 0, heuristic: false, immutable: false };
  const lastModified = parseHttpDate(firstValue(res.headers, 'last-modified'));
  const lmAge = lastModified !== undefined && lastModified <= dateValue ? (dateValue - lastModified) / 1000 : undefined;
  const rule = opts.rule;
  if (rule) {
    // an immutable rule pins content-addressed files; a 404 or 410 for such a URL (a mirror still syncing)
    // must not be pinned with them: other statuses get the rule's minimum
    if (rule.immutable && (res.status === 200 || res.status === 203)) return { lifetime: rule.maxSeconds, heuristic: true, rule: rule.name, immutable: true };
    if (rule.immutable) return { lifetime: rule.minSeconds, heuristic: true, rule: rule.name, immutable: false };
    const fromLm = lmAge === undefined ? rule.minSeconds : (lmAge * rule.percent) / 100;
    const lifetime = Math.floor(Math.min(rule.maxSeconds, Math.max(rule.minSeconds, fromLm)));
    return { lifetime, heuristic: true, rule: rule.name, immutable: false };
  }
  // "a typical setting of this fraction might be 10%" of the time since Last-Modified
  if (lmAge === undefined) return { lifetime: 0, heuristic: true, immutable: false };
  const lifetime = Math.floor(Math.min(opts.heuristicMaxSeconds, (lmAge * opts.heuristicPercent) / 100));
  return { lifetime: Math.max(0, lifetime), heuristic: true, immutable: false };
}

/** The Age field value as delta-seconds; invalid values are ignored (→ 0). https://www.rfc-editor.org/rfc/rfc9111#section-5.1 */
function ageValue(h: Headers): number {
  const first = firstValue(h, 'age');
  if (first === undefined) return 0;
  // a list ("0, 7200") or several lines: use the first member
  return deltaSeconds(first.split(',')[0]!.trim()) ?? 0;
}

/** The freshness state kept with a stored response: https://www.rfc-editor.org/rfc/rfc9111#section-4.2 */
export function makeStoredPolicy(res: ResponseInfo, requestTime: number, responseTime: number, opts: PolicyOptions): StoredPolicy {
  res = targetedResponse(res, opts.targeted); // RFC 9213 §2.2
  const cc = responseDirectives(res);
  const fresh = freshness(res, cc, responseTime, opts);
  // Age calculation: https://www.rfc-editor.org/rfc/rfc9111#section-4.2.3
  const dateValue = parseHttpDate(firstValue(res.headers, 'date'));
  const apparentAge = dateValue === undefined ? 0 : Math.max(0, (responseTime - dateValue) / 1000);
  const responseDelay = Math.max(0, (responseTime - requestTime) / 1000);
  const correctedAgeValue = ageValue(res.headers) + responseDelay;
  const correctedInitialAge = Math.max(apparentAge, correctedAgeValue);
  const noCacheArg = cc.get('no-cache');
  const policy: StoredPolicy = {
    correctedInitialAge,
    responseTime,
    requestTime,
    freshnessLifetime: fresh.lifetime,
    heuristic: fresh.heuristic,
    // must-revalidate §5.2.2.2, proxy-revalidate §5.2.2.8, s-maxage implies proxy-revalidate §5.2.2.10
    mustRevalidate: cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage'),
    // unqualified no-cache (§5.2.2.4); a qualified one with no field names counts as unqualified.
    // Also set when the headers are no longer storable by a shared cache (private, or no-store without
    // must-understand): canStore() refuses those up front, so they only get here when a 304 or a HEAD
    // updated a stored response (§4.3.4) — then it is never reused without asking the origin again.
    noCache: (noCacheArg !== undefined && fieldNames(noCacheArg).length === 0) || unshareable(cc),
    // RFC 5861 §3 and §4 (https://www.rfc-editor.org/rfc/rfc5861)
    staleWhileRevalidate: deltaSeconds(cc.get('stale-while-revalidate')) ?? 0,
    staleIfError: deltaSeconds(cc.get('stale-if-error')) ?? 0,
    // RFC 8246 (https://www.rfc-editor.org/rfc/rfc8246#section-2), or an immutable refresh rule
    immutable: cc.has('immutable') || fresh.immutable,
  };
  if (fresh.rule !== undefined) policy.rule = fresh.rule;
  // a matched rule's offline override applies whatever set the freshness (it exists for must-revalidate / no-cache)
  if (opts.rule?.offlineOverride) policy.offlineOverride = true;
  return policy;
}

/** Headers a shared cache must not store (https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.7, §5.2.2.5, §5.2.2.3). */
function unshareable(cc: Directives): boolean {
  return cc.has('private') || (cc.has('no-store') && !cc.has('must-understand'));
}

/** current_age in whole seconds: https://www.rfc-editor.org/rfc/rfc9111#section-4.2.3 */
export function currentAge(p: StoredPolicy, now: number): number {
  const residentTime = Math.max(0, (now - p.responseTime) / 1000);
  return Math.floor(p.correctedInitialAge + residentTime);
}

/** Remaining freshness in seconds; <= 0 means stale (https://www.rfc-editor.org/rfc/rfc9111#section-4.2). */
export function ttl(p: StoredPolicy, now: number): number {
  return p.freshnessLifetime - currentAge(p, now);
}

export type UseDecision =
  | { action: 'serve'; stale: boolean }
  | { action: 'serve-stale-while-revalidate' }
  | { action: 'revalidate'; reason: string };

/** Request Cache-Control, with Pragma: no-cache read as no-cache when Cache-Control is absent (§5.4). */
function requestDirectives(reqHeaders: Headers): Directives {
  const cc = parseCacheControl(reqHeaders['cache-control']);
  // https://www.rfc-editor.org/rfc/rfc9111#section-5.4: Pragma: no-cache only when there is no Cache-Control
  if (reqHeaders['cache-control'] === undefined) {
    const pragma = joinedValue(reqHeaders, 'pragma');
    if (pragma !== undefined && pragma.split(',').some((p) => p.trim().toLowerCase() === 'no-cache')) cc.set('no-cache', true);
  }
  return cc;
}

/**
 * May the stored response be used to satisfy this request?
 * https://www.rfc-editor.org/rfc/rfc9111#section-4 (constructing responses from caches), §4.2 (freshness),
 * §4.2.4 (serving stale), §5.2.1 (request directives), RFC 5861 §3, RFC 8246.
 *
 * Immutable (RFC 8246 §2): while fresh, a request `max-age` (what a browser reload sends) does not force
 * revalidation; an explicit request `no-cache` (a forced reload) still does.
 */
export function decideUse(p: StoredPolicy, reqHeaders: Headers, now: number): UseDecision {
  const cc = requestDirectives(reqHeaders);
  // request no-cache: https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1.4
  if (cc.has('no-cache')) return { action: 'revalidate', reason: 'request-no-cache' };
  // response no-cache: https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.4
  if (p.noCache) return { action: 'revalidate', reason: 'no-cache' };

  const age = currentAge(p, now);
  const fresh = p.freshnessLifetime > age; // §4.2: response_is_fresh = (freshness_lifetime > current_age)
  const staleness = age - p.freshnessLifetime;

  // request max-age: https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1.1 (invalid value → 0, the safe reading)
  if (cc.has('max-age') && !(p.immutable && fresh)) {
    const maxAge = deltaSeconds(cc.get('max-age')) ?? 0;
    // compared with the unrounded age: a response some milliseconds old is older than max-age=0 (a reload)
    const preciseAge = p.correctedInitialAge + Math.max(0, (now - p.responseTime) / 1000);
    if (preciseAge > maxAge) return { action: 'revalidate', reason: 'request-max-age' };
  }
  // request min-fresh: https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1.3
  if (cc.has('min-fresh')) {
    const minFresh = deltaSeconds(cc.get('min-fresh'));
    if (minFresh === undefined || p.freshnessLifetime - age < minFresh) return { action: 'revalidate', reason: 'request-min-fresh' };
  }
  if (fresh) return { action: 'serve', stale: false };

  // Stale from here. must-revalidate / proxy-revalidate / s-maxage forbid any stale use (§4.2.4, §5.2.2.2).
  if (p.mustRevalidate) return { action: 'revalidate', reason: 'stale-must-revalidate' };
  // request max-stale: https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1.2 (no value: any staleness)
  if (cc.has('max-stale')) {
    const arg = cc.get('max-stale');
    if (arg === true) return { action: 'serve', stale: true };
    const maxStale = deltaSeconds(arg);
    if (maxStale !== undefined && staleness <= maxStale) return { action: 'serve', stale: true };
  }
  // stale-while-revalidate: https://www.rfc-editor.org/rfc/rfc5861#section-3
  if (p.staleWhileRevalidate > 0 && staleness <= p.staleWhileRevalidate) return { action: 'serve-stale-while-revalidate' };
  return { action: 'revalidate', reason: 'stale' };
}

/**
 * May this stored response be served because the origin could not be reached or answered 5xx?
 * https://www.rfc-editor.org/rfc/rfc5861#section-4 (stale-if-error in the response or the request).
 * must-revalidate / no-cache forbid it (§5.2.2.2: "MUST generate an error").
 */
export function canServeStaleOnError(p: StoredPolicy, reqHeaders: Headers, now: number): boolean {
  const cc = requestDirectives(reqHeaders);
  const age = currentAge(p, now);
  const staleness = Math.max(0, age - p.freshnessLifetime);
  const requestWindow = deltaSeconds(cc.get('stale-if-error')) ?? 0;
  if (p.mustRevalidate || p.noCache) return p.offlineOverride === true && staleness <= 0;
  // The client asked for validation (no-cache) and gave no stale-if-error of its own: honour it.
  if (cc.has('no-cache') && !cc.has('stale-if-error')) return false;
  if (p.freshnessLifetime > age) return true; // still fresh: it was only being revalidated at the client's request
  // a window of 0 means no permission at all (an entry 0 s past its lifetime is stale all the same)
  const window = Math.max(requestWindow, p.staleIfError);
  return window > 0 && staleness <= window;
}

/**
 * The offline grace: may a *disconnected* cache (the origin could not be reached, or closed without a
 * response) serve this stored response stale? https://www.rfc-editor.org/rfc/rfc9111#section-4.2.4
 * Never for must-revalidate, proxy-revalidate, s-maxage (all in `mustRevalidate`) or no-cache (§5.2.2.2,
 * §5.2.2.4, §5.2.2.8, §5.2.2.10), unless a refresh rule the operator wrote set offlineOverride.
 * Staleness is measured unrounded, so the grace ends when it says it does. A 5xx is a real answer, not a
 * disconnection: the caller does not ask this for one.
 */
export function canServeStaleOffline(p: StoredPolicy, now: number, graceMs: number): boolean {
  if (graceMs <= 0) return false;
  if ((p.mustRevalidate || p.noCache) && p.offlineOverride !== true) return false;
  const staleFor = p.correctedInitialAge + (now - p.responseTime) / 1000 - p.freshnessLifetime;
  return staleFor * 1000 <= graceMs;
}

/** only-if-cached: https://www.rfc-editor.org/rfc/rfc9111#section-5.2.1.7 */
export function onlyIfCached(reqHeaders: Headers): boolean {
  return parseCacheControl(reqHeaders['cache-control']).has('only-if-cached');
}
