import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canServeStaleOnError, canServeStaleOffline, canStore, currentAge, decideUse, makeStoredPolicy, onlyIfCached,
  ttl, type Headers, type PolicyOptions, type RuleParams,
} from '../../src/cache/policy.js';
import { formatHttpDate } from '../../src/cache/http-date.js';
import { fieldNames, parseCacheControl } from '../../src/cache/cache-control.js';

const NOW = Date.UTC(2024, 0, 10, 12, 0, 0);
const OPTS: PolicyOptions = { shareSetCookie: false, heuristicPercent: 10, heuristicMaxSeconds: 86400 };
const date = (offsetSeconds = 0): string => formatHttpDate(NOW + offsetSeconds * 1000);
const GET = (headers: Headers = {}) => ({ method: 'GET', headers });
const res = (status: number, headers: Headers) => ({ status, headers: { date: date(), ...headers } });
/** policy for a response received at NOW (request sent at NOW) */
const stored = (headers: Headers, status = 200, opts = OPTS) => makeStoredPolicy(res(status, headers), NOW, NOW, opts);
const at = (seconds: number): number => NOW + seconds * 1000;

function storable(reqHeaders: Headers, status: number, headers: Headers, opts = OPTS): true | string {
  const r = canStore(GET(reqHeaders), { status, headers }, opts);
  return r.ok ? true : r.reason;
}

// ---- §3 storing

test('§3 a 200 with max-age is storable', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'max-age=60' }), true);
});

test('§3 only GET responses are stored as new entries', () => {
  assert.equal(canStore({ method: 'POST', headers: {} }, { status: 200, headers: { 'cache-control': 'max-age=60' } }, OPTS).ok, false);
  assert.equal(canStore({ method: 'HEAD', headers: {} }, { status: 200, headers: { 'cache-control': 'max-age=60' } }, OPTS).ok, false);
});

test('§3 non-final, partial (206) and 304 responses are not stored', () => {
  assert.equal(storable({}, 100, { 'cache-control': 'max-age=60' }), 'status');
  assert.equal(storable({}, 206, { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-1/10' }), 'partial-or-not-modified');
  assert.equal(storable({}, 304, { 'cache-control': 'max-age=60' }), 'partial-or-not-modified');
});

test('§3.1 a 200 carrying Content-Range is stored like any 200 (all received fields are kept)', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-1/2' }), true);
  assert.equal(storable({ range: 'bytes=0-1' }, 200, { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-1/10' }), 'content-range', 'a part sent as 200 to a Range request');
});

test('§5.2.2.5 response no-store is not stored (any case)', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'max-age=60, NO-STORE' }), 'no-store');
});

test('§5.2.1.5 request no-store prevents storing', () => {
  assert.equal(storable({ 'cache-control': 'no-store' }, 200, { 'cache-control': 'max-age=60' }), 'request-no-store');
});

test('§5.2.2.7 shared cache does not store private, qualified or not', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'private, max-age=60' }), 'private');
  assert.equal(storable({}, 200, { 'cache-control': 'private="set-cookie", max-age=60' }), 'private');
  assert.deepEqual(fieldNames(parseCacheControl('private="Set-Cookie, X-A"').get('private')), ['set-cookie', 'x-a']);
});

test('§3.5 request with Authorization: stored only with public, s-maxage or must-revalidate', () => {
  const auth = { authorization: 'Basic eDp5' };
  assert.equal(storable(auth, 200, { 'cache-control': 'max-age=60' }), 'authorization');
  assert.equal(storable(auth, 200, { 'cache-control': 'public, max-age=60' }), true);
  assert.equal(storable(auth, 200, { 'cache-control': 's-maxage=60' }), true);
  assert.equal(storable(auth, 200, { 'cache-control': 'must-revalidate, max-age=60' }), true);
});

test('§4.1 Vary: * is not stored', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'max-age=60', vary: 'Accept, *' }), 'vary-star');
});

test('Set-Cookie responses are not shared unless public or shareSetCookie', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'max-age=60', 'set-cookie': ['a=b'] }), 'set-cookie');
  assert.equal(storable({}, 200, { 'cache-control': 'public, max-age=60', 'set-cookie': ['a=b'] }), true);
  assert.equal(storable({}, 200, { 'cache-control': 'max-age=60', 'set-cookie': ['a=b'] }, { ...OPTS, shareSetCookie: true }), true);
});

test('§3 explicit freshness makes any final status storable; unknown statuses without it are not', () => {
  assert.equal(storable({}, 302, { 'cache-control': 'max-age=60' }), true);
  assert.equal(storable({}, 500, { expires: date(60) }), true);
  assert.equal(storable({}, 302, {}), 'no-freshness');
  assert.equal(storable({}, 599, {}), 'no-freshness');
  assert.equal(storable({}, 302, { 'cache-control': 'public' }), true);
});

test('§3 / RFC 9110 §15.1 heuristically cacheable statuses are storable without explicit freshness', () => {
  for (const s of [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]) assert.equal(storable({}, s, {}), true, String(s));
  for (const s of [201, 302, 303, 307, 400, 403, 500, 502, 503]) assert.equal(storable({}, s, {}), 'no-freshness', String(s));
});

test('§3 an invalid or past Expires still makes a response storable (stored stale)', () => {
  assert.equal(storable({}, 302, { expires: '0' }), true);
  assert.equal(storable({}, 302, { expires: date(-3600) }), true);
});

test('§5.2.2.3 must-understand: stored when the status is understood, ignoring no-store', () => {
  assert.equal(storable({}, 200, { 'cache-control': 'must-understand, no-store, max-age=60' }), true);
  assert.equal(storable({}, 299, { 'cache-control': 'must-understand, no-store, max-age=60' }), 'must-understand');
});

// ---- §4.2.1 freshness lifetime

test('§4.2.1 s-maxage overrides max-age and Expires in a shared cache', () => {
  assert.equal(stored({ 'cache-control': 'max-age=10, s-maxage=100', expires: date(5) }).freshnessLifetime, 100);
});

test('§4.2.1 max-age overrides Expires', () => {
  assert.equal(stored({ 'cache-control': 'max-age=10', expires: date(5000) }).freshnessLifetime, 10);
});

test('§4.2.1 max-age=0 is stale at once', () => {
  const p = stored({ 'cache-control': 'max-age=0' });
  assert.equal(p.freshnessLifetime, 0);
  assert.deepEqual(decideUse(p, {}, NOW), { action: 'revalidate', reason: 'stale' });
});

test('§4.2.1 negative, non-integer or garbage max-age is invalid → stale, not heuristic', () => {
  for (const cc of ['max-age=-1', 'max-age=1.5', 'max-age=abc', 'max-age=', 'max-age']) {
    const p = stored({ 'cache-control': cc, 'last-modified': date(-86400 * 10), expires: date(3600) });
    assert.equal(p.freshnessLifetime, 0, cc);
  }
});

test('§4.2.1 quoted max-age is accepted', () => {
  assert.equal(stored({ 'cache-control': 'max-age="60"' }).freshnessLifetime, 60);
});

test('§1.2.2 huge max-age is capped at 2^31 and the response is fresh', () => {
  const p = stored({ 'cache-control': 'max-age=99999999999999999999' });
  assert.equal(p.freshnessLifetime, 2147483648);
  assert.deepEqual(decideUse(p, {}, at(86400 * 365)), { action: 'serve', stale: false });
});

test('§4.2.1 conflicting duplicate max-age → stale; identical duplicates are fine', () => {
  assert.equal(stored({ 'cache-control': 'max-age=3600, max-age=1' }).freshnessLifetime, 0);
  assert.equal(stored({ 'cache-control': ['max-age=3600', 'max-age=3600'] }).freshnessLifetime, 3600);
});

test('§4.2.1 uppercase directive names are honoured', () => {
  assert.equal(stored({ 'cache-control': 'MAX-AGE=60' }).freshnessLifetime, 60);
});

test('§5.3 Expires − Date gives the lifetime', () => {
  assert.equal(stored({ expires: date(600) }).freshnessLifetime, 600);
});

test('§5.3 Expires in the past, invalid, or "0" → stale', () => {
  assert.equal(stored({ expires: date(-600) }).freshnessLifetime, 0);
  assert.equal(stored({ expires: 'garbage' }).freshnessLifetime, 0);
  assert.equal(stored({ expires: '0', 'last-modified': date(-86400) }).freshnessLifetime, 0);
});

test('§4.2.1 Date absent: Expires is measured from the response time', () => {
  const p = makeStoredPolicy({ status: 200, headers: { expires: date(300) } }, NOW, NOW, OPTS);
  assert.equal(p.freshnessLifetime, 300);
  assert.equal(p.correctedInitialAge, 0);
});

test('§4.2.1 differing Expires lines → stale', () => {
  assert.equal(stored({ expires: [date(600), date(1200)] }).freshnessLifetime, 0);
});

// ---- §4.2.2 heuristics

test('§4.2.2 heuristic freshness is 10% of the Last-Modified age', () => {
  const p = stored({ 'last-modified': date(-10000) });
  assert.equal(p.freshnessLifetime, 1000);
  assert.equal(p.heuristic, true);
});

test('§4.2.2 heuristic freshness is capped', () => {
  assert.equal(stored({ 'last-modified': date(-86400 * 365) }).freshnessLifetime, 86400);
});

test('§4.2.2 no heuristic without Last-Modified, or for statuses not heuristically cacheable', () => {
  assert.equal(stored({}).freshnessLifetime, 0);
  assert.equal(stored({ 'last-modified': date(-10000) }, 302).freshnessLifetime, 0);
  assert.equal(stored({ 'last-modified': date(-10000), 'cache-control': 'public' }, 302).freshnessLifetime, 1000);
});

test('§4.2.2 a refresh rule clamps the Last-Modified fraction between min and max', () => {
  const rule: RuleParams = { name: 'debs', minSeconds: 60, percent: 20, maxSeconds: 500, immutable: false, offlineOverride: true };
  const withRule = { ...OPTS, rule };
  assert.equal(stored({ 'last-modified': date(-1000) }, 200, withRule).freshnessLifetime, 200);
  assert.equal(stored({ 'last-modified': date(-10) }, 200, withRule).freshnessLifetime, 60);
  assert.equal(stored({ 'last-modified': date(-100000) }, 200, withRule).freshnessLifetime, 500);
  const p = stored({}, 200, withRule);
  assert.equal(p.freshnessLifetime, 60);
  assert.equal(p.rule, 'debs');
  assert.equal(p.offlineOverride, true);
  // the offline override is kept even when the response's own freshness wins
  assert.equal(stored({ 'cache-control': 'max-age=5, must-revalidate' }, 200, withRule).offlineOverride, true);
  assert.equal(stored({ 'cache-control': 'max-age=5' }).offlineOverride, undefined);
  // explicit freshness wins over a rule
  const explicit = stored({ 'cache-control': 'max-age=5' }, 200, withRule);
  assert.equal(explicit.freshnessLifetime, 5);
  assert.equal(explicit.rule, undefined);
});

test('§4.2.2 an immutable rule gives maxSeconds and immutable', () => {
  const rule: RuleParams = { name: 'pool', minSeconds: 0, percent: 0, maxSeconds: 31536000, immutable: true, offlineOverride: false };
  const p = stored({}, 200, { ...OPTS, rule });
  assert.equal(p.freshnessLifetime, 31536000);
  assert.equal(p.immutable, true);
});

// ---- §4.2.3 age

test('§4.2.3 Age header adds to the current age', () => {
  const p = stored({ 'cache-control': 'max-age=100', age: '30' });
  assert.equal(currentAge(p, NOW), 30);
  assert.equal(currentAge(p, at(10)), 40);
  assert.equal(ttl(p, at(10)), 60);
});

test('§4.2.3 Age larger than max-age → stale at once', () => {
  const p = stored({ 'cache-control': 'max-age=60', age: '120' });
  assert.ok(ttl(p, NOW) < 0);
  assert.equal(decideUse(p, {}, NOW).action, 'revalidate');
});

test('§4.2.3 Age with garbage is ignored; a list uses its first member', () => {
  for (const age of ['abc', '-7200', '7200.0', '']) {
    assert.equal(currentAge(stored({ 'cache-control': 'max-age=3600', age }), NOW), 0, age);
  }
  assert.equal(currentAge(stored({ 'cache-control': 'max-age=3600', age: '7200, 0' }), NOW), 7200);
  assert.equal(currentAge(stored({ 'cache-control': 'max-age=3600', age: ['10', '7200'] }), NOW), 10);
});

test('§4.2.3 Age of 2^31 or more makes the response stale', () => {
  const p = stored({ 'cache-control': 'max-age=3600', age: '2147483649' });
  assert.equal(decideUse(p, {}, NOW).action, 'revalidate');
});

test('§4.2.3 apparent age from Date and response delay are both taken into account', () => {
  // Date 100 s before the response was received
  const p1 = makeStoredPolicy({ status: 200, headers: { date: date(-100), 'cache-control': 'max-age=1000' } }, NOW, NOW, OPTS);
  assert.equal(currentAge(p1, NOW), 100);
  // 5 s response delay with Age: 10 → corrected age 15
  const p2 = makeStoredPolicy({ status: 200, headers: { date: date(), age: '10', 'cache-control': 'max-age=1000' } }, NOW - 5000, NOW, OPTS);
  assert.equal(currentAge(p2, NOW), 15);
  // Date in the future does not make the age negative
  const p3 = makeStoredPolicy({ status: 200, headers: { date: date(500) } }, NOW, NOW, OPTS);
  assert.equal(currentAge(p3, NOW), 0);
});

// ---- stored policy flags

test('§5.2.2.2/§5.2.2.8/§5.2.2.10 must-revalidate, proxy-revalidate and s-maxage set mustRevalidate', () => {
  assert.equal(stored({ 'cache-control': 'max-age=1, must-revalidate' }).mustRevalidate, true);
  assert.equal(stored({ 'cache-control': 'max-age=1, proxy-revalidate' }).mustRevalidate, true);
  assert.equal(stored({ 'cache-control': 's-maxage=1' }).mustRevalidate, true);
  assert.equal(stored({ 'cache-control': 'max-age=1' }).mustRevalidate, false);
});

test('§5.2.2.4 no-cache without field names always revalidates; with field names it does not', () => {
  const p = stored({ 'cache-control': 'no-cache, max-age=3600' });
  assert.equal(p.noCache, true);
  assert.deepEqual(decideUse(p, {}, NOW), { action: 'revalidate', reason: 'no-cache' });
  const q = stored({ 'cache-control': 'no-cache="Set-Cookie", max-age=3600' });
  assert.equal(q.noCache, false);
  assert.deepEqual(decideUse(q, {}, NOW), { action: 'serve', stale: false });
  assert.deepEqual(fieldNames(parseCacheControl('no-cache="Set-Cookie, X-A"').get('no-cache')), ['set-cookie', 'x-a']);
});

test('§4.3.4 headers updated to private or no-store (by a 304) are never reused without validation', () => {
  // canStore() refuses these; a 304 can still bring them onto a stored response
  for (const cc of ['private, max-age=3600', 'max-age=3600, no-store', 'private="x", max-age=3600']) {
    const p = stored({ 'cache-control': cc });
    assert.equal(p.noCache, true, cc);
    assert.equal(decideUse(p, {}, NOW).action, 'revalidate', cc);
  }
  // must-understand with an understood status makes no-store ignorable (§5.2.2.3): still reusable
  assert.equal(stored({ 'cache-control': 'must-understand, no-store, max-age=3600' }).noCache, false);
});

test('RFC 5861 stale-while-revalidate and stale-if-error are recorded; RFC 8246 immutable too', () => {
  const p = stored({ 'cache-control': 'max-age=1, stale-while-revalidate=30, stale-if-error=600, immutable' });
  assert.equal(p.staleWhileRevalidate, 30);
  assert.equal(p.staleIfError, 600);
  assert.equal(p.immutable, true);
});

// ---- decideUse

test('§4.2 a fresh response is served', () => {
  assert.deepEqual(decideUse(stored({ 'cache-control': 'max-age=60' }), {}, at(59)), { action: 'serve', stale: false });
  assert.equal(decideUse(stored({ 'cache-control': 'max-age=60' }), {}, at(60)).action, 'revalidate');
});

test('§5.2.1.4 request no-cache forces revalidation', () => {
  assert.equal(decideUse(stored({ 'cache-control': 'max-age=60' }), { 'cache-control': 'no-cache' }, NOW).action, 'revalidate');
});

test('§5.4 Pragma: no-cache forces revalidation only without Cache-Control', () => {
  const p = stored({ 'cache-control': 'max-age=60' });
  assert.equal(decideUse(p, { pragma: 'no-cache' }, NOW).action, 'revalidate');
  assert.equal(decideUse(p, { pragma: 'no-cache', 'cache-control': 'max-age=600' }, NOW).action, 'serve');
});

test('§5.2.1.1 request max-age limits the acceptable age', () => {
  const p = stored({ 'cache-control': 'max-age=600' });
  assert.equal(decideUse(p, { 'cache-control': 'max-age=30' }, at(20)).action, 'serve');
  assert.deepEqual(decideUse(p, { 'cache-control': 'max-age=30' }, at(40)), { action: 'revalidate', reason: 'request-max-age' });
  assert.equal(decideUse(p, { 'cache-control': 'max-age=0' }, at(1)).action, 'revalidate');
  assert.equal(decideUse(p, { 'cache-control': 'max-age=abc' }, at(1)).action, 'revalidate');
});

test('§5.2.1.3 request min-fresh requires remaining freshness', () => {
  const p = stored({ 'cache-control': 'max-age=600' });
  assert.equal(decideUse(p, { 'cache-control': 'min-fresh=100' }, at(400)).action, 'serve');
  assert.deepEqual(decideUse(p, { 'cache-control': 'min-fresh=100' }, at(550)), { action: 'revalidate', reason: 'request-min-fresh' });
});

test('§5.2.1.2 request max-stale allows stale responses, bounded by its value', () => {
  const p = stored({ 'cache-control': 'max-age=60' });
  assert.deepEqual(decideUse(p, { 'cache-control': 'max-stale' }, at(10000)), { action: 'serve', stale: true });
  assert.deepEqual(decideUse(p, { 'cache-control': 'max-stale=100' }, at(150)), { action: 'serve', stale: true });
  assert.equal(decideUse(p, { 'cache-control': 'max-stale=100' }, at(200)).action, 'revalidate');
});

test('§4.2.4 max-stale never overrides must-revalidate, s-maxage or no-cache', () => {
  for (const cc of ['max-age=60, must-revalidate', 's-maxage=60', 'max-age=60, proxy-revalidate', 'no-cache, max-age=60']) {
    assert.equal(decideUse(stored({ 'cache-control': cc }), { 'cache-control': 'max-stale' }, at(100)).action, 'revalidate', cc);
  }
});

test('RFC 5861 §3 stale-while-revalidate serves stale within the window', () => {
  const p = stored({ 'cache-control': 'max-age=60, stale-while-revalidate=30' });
  assert.deepEqual(decideUse(p, {}, at(80)), { action: 'serve-stale-while-revalidate' });
  assert.equal(decideUse(p, {}, at(100)).action, 'revalidate');
  assert.equal(decideUse(p, { 'cache-control': 'no-cache' }, at(80)).action, 'revalidate');
});

test('§4.2.4 stale-while-revalidate does not override must-revalidate', () => {
  const p = stored({ 'cache-control': 'max-age=60, stale-while-revalidate=30, must-revalidate' });
  assert.equal(decideUse(p, {}, at(80)).action, 'revalidate');
});

test('RFC 8246 fresh immutable is served despite request max-age=0, but not request no-cache', () => {
  const p = stored({ 'cache-control': 'max-age=600, immutable' });
  assert.deepEqual(decideUse(p, { 'cache-control': 'max-age=0' }, at(10)), { action: 'serve', stale: false });
  assert.equal(decideUse(p, { 'cache-control': 'no-cache' }, at(10)).action, 'revalidate');
  assert.equal(decideUse(p, { 'cache-control': 'max-age=0' }, at(700)).action, 'revalidate');
});

// ---- stale on error

test('RFC 5861 §4 stale-if-error in the response allows stale on error within its window', () => {
  const p = stored({ 'cache-control': 'max-age=60, stale-if-error=100' });
  assert.equal(canServeStaleOnError(p, {}, at(150)), true);
  assert.equal(canServeStaleOnError(p, {}, at(200)), false);
});

test('RFC 5861 §4 stale-if-error in the request allows stale on error', () => {
  const p = stored({ 'cache-control': 'max-age=60' });
  assert.equal(canServeStaleOnError(p, {}, at(100)), false);
  assert.equal(canServeStaleOnError(p, { 'cache-control': 'stale-if-error=100' }, at(100)), true);
});

test('§5.2.2.2 must-revalidate forbids stale on error and offline, unless a rule overrides within the grace', () => {
  const p = stored({ 'cache-control': 'max-age=60, must-revalidate, stale-if-error=1000' });
  assert.equal(canServeStaleOnError(p, {}, at(100)), false);
  assert.equal(canServeStaleOffline(p, at(100), 1_000_000), false);
  const q = { ...p, offlineOverride: true };
  assert.equal(canServeStaleOffline(q, at(100), 1_000_000), true);
  assert.equal(canServeStaleOffline(q, at(100), 10_000), false);
});

test('§4.2.4 a disconnected cache may serve stale within the operator grace (unrounded, ms)', () => {
  const p = stored({ 'cache-control': 'max-age=60' });
  assert.equal(canServeStaleOffline(p, at(100), 300_000), true);
  assert.equal(canServeStaleOffline(p, at(1000), 300_000), false);
  assert.equal(canServeStaleOffline(p, at(100), 40_000), true, 'exactly 40 s stale');
  assert.equal(canServeStaleOffline(p, at(100) + 1, 40_000), false, 'one ms past the grace');
  assert.equal(canServeStaleOffline(p, at(100), 0), false, 'grace 0 is off');
});

test('§4.2.4 no offline grace for proxy-revalidate, s-maxage or no-cache responses', () => {
  for (const cc of ['max-age=60, proxy-revalidate', 's-maxage=60', 'max-age=60, no-cache']) {
    assert.equal(canServeStaleOffline(stored({ 'cache-control': cc }), at(100), 1_000_000), false, cc);
  }
});

test('§5.2.1 only-if-cached and request no-store are detected', () => {
  assert.equal(onlyIfCached({ 'cache-control': 'max-age=0, Only-If-Cached' }), true);
  assert.equal(onlyIfCached({}), false);
  assert.equal(storable({ 'cache-control': 'no-store' }, 200, { 'cache-control': 'max-age=60' }), 'request-no-store');
  assert.equal(storable({ 'cache-control': 'no-cache' }, 200, { 'cache-control': 'max-age=60' }), true);
});
