/**
 * Stored headers (RFC 9111 §3.1, §5.2.2.4), ranges (RFC 9110 §14, RFC 9111 §3.4), RFC 5861 stale responses,
 * methods (§2, §4.3.5), Authorization and Set-Cookie (§3.5, DESIGN invariant 6), queries, Cache-Status (RFC 9211).
 */
import type { Case, HeaderList } from '../types.js';
import { cc, reuse, twoStep, PAUSE } from './util.js';

const FRESH: HeaderList = [cc('max-age=3600')];
const h = 'headers';

export const headerCases: Case[] = [
  reuse(h, 'required', 'headers-store-Test-Header', 'stores and sends end-to-end headers', [...FRESH, ['Test-Header', 'A']], 'cached', 0, { expectHeaders: [['Test-Header', 'A']] }),
  reuse(h, 'required', 'headers-store-repeated', 'keeps a repeated header with all its values', [...FRESH, ['Test-Header', 'A'], ['Test-Header', 'B']], 'cached', 0, { expectHeaders: [['Test-Header', /^A, ?B$/]] }),
  reuse(h, 'required', 'headers-omit-headers-listed-in-Connection', 'does not store or send headers listed in Connection', [...FRESH, ['Connection', 'Test-Header, keep-alive'], ['Test-Header', 'A']], 'cached', 0, { expectHeadersMissing: ['Test-Header'] }),
  reuse(h, 'required', 'headers-omit-Keep-Alive', 'does not send the upstream Keep-Alive', [...FRESH, ['Keep-Alive', 'timeout=999']], 'cached', 0, { expectHeadersMissing: ['Keep-Alive'] }),
  reuse(h, 'required', 'headers-omit-headers-listed-in-Cache-Control-no-cache-single', 'does not send a no-cache="Test-Header" field without revalidation', [cc('max-age=3600, no-cache="Test-Header"'), ['Test-Header', 'A']], 'cached', 0, { expectHeadersMissing: ['Test-Header'] }),
  reuse(h, 'required', 'headers-omit-headers-listed-in-Cache-Control-no-cache', 'does not send fields named in no-cache="a, b"', [cc('max-age=3600, no-cache="Test-Header, Test-Header-2"'), ['Test-Header', 'A'], ['Test-Header-2', 'B']], 'cached', 0, { expectHeadersMissing: ['Test-Header', 'Test-Header-2'] }),
  { ...reuse(h, 'optimal', 'headers-store-private-qualified', 'stores private="Test-Header" without that field', [cc('max-age=3600, private="Test-Header"'), ['Test-Header', 'A']], 'cached', 0, { expectHeadersMissing: ['Test-Header'] }),
    skipReason: 'DESIGN invariant 6: a response with private, qualified or not, is never stored by this shared cache' },
  reuse(h, 'required', 'headers-via-cached', 'a response served from cache carries this cache in Via', FRESH, 'cached', 0, { expectHeaders: [['Via', /larder/]] }),
  twoStep(h, 'required', 'other-date-add', 'a response without Date gets one, stored and served', { responseHeaders: FRESH, noDate: true, expectHeaders: [['Date', true]] }, { expect: 'cached', expectHeaders: [['Date', true]] }),
  // RFC 9111 §3.1: "Caches MUST include all received response header fields -- including unrecognized ones --
  // when storing a response", except the Connection field and those it lists (RFC 9110 §7.6.1) and the fields
  // specific to the proxy used to forward the request (Proxy-Authenticate, Proxy-Authentication-Info,
  // Proxy-Authorization). A Content-Range on a 200 is one of the received fields like any other.
  reuse(h, 'required', 'headers-store-Content-Range-200', 'a 200 with Content-Range is stored and served with it', [...FRESH, ['Content-Range', 'bytes 0-15/16']], 'cached', 0,
    { expectStatus: 200, expectHeaders: [['Content-Range', 'bytes 0-15/16']] }),
  reuse(h, 'required', 'headers-store-every-field', 'every end-to-end field the origin sent is stored and sent', [...FRESH,
    ['Content-Foo', 'A'], ['X-Frame-Options', 'deny'], ['Link', '</style.css>; rel=preload'], ['Server', 'origin/1'], ['Content-Language', 'en'],
    ['Content-Disposition', 'inline'], ['Access-Control-Allow-Origin', '*'], ['Alt-Svc', 'clear'], ['Accept-Ranges', 'bytes'], ['Test-Header', 'A, B']], 'cached', 0,
  { expectHeaders: [['Content-Foo', 'A'], ['X-Frame-Options', 'deny'], ['Link', '</style.css>; rel=preload'], ['Server', 'origin/1'], ['Content-Language', 'en'],
    ['Content-Disposition', 'inline'], ['Access-Control-Allow-Origin', '*'], ['Alt-Svc', 'clear'], ['Accept-Ranges', 'bytes'], ['Test-Header', 'A, B']] }),
  reuse(h, 'required', 'headers-omit-Proxy-Authenticate', 'does not store Proxy-Authenticate (specific to the forwarding proxy)', [...FRESH, ['Proxy-Authenticate', 'Basic realm="x"']], 'cached', 0,
    { expectHeadersMissing: ['Proxy-Authenticate'] }),
  reuse(h, 'required', 'headers-omit-Proxy-Authentication-Info', 'does not store Proxy-Authentication-Info', [...FRESH, ['Proxy-Authentication-Info', 'nextnonce="x"']], 'cached', 0,
    { expectHeadersMissing: ['Proxy-Authentication-Info'] }),
  reuse(h, 'optimal', 'headers-content-type-kept', 'the stored Content-Type is sent', [...FRESH, ['Content-Type', 'text/x-test; charset=utf-8']], 'cached', 0, { expectHeaders: [['Content-Type', 'text/x-test; charset=utf-8']] }),
];

const p = 'partial';
const BODY = '0123456789abcdef';
const RANGED: HeaderList = [...FRESH, ['ETag', '"abc"'], ['Content-Type', 'text/plain']];
function range(id: string, kind: Case['kind'], name: string, rangeValue: string, expectStatus: number, expectBody?: string, extra: HeaderList = [], contentRange?: string): Case {
  return { id, group: p, kind, name, steps: [
    { responseHeaders: RANGED, body: BODY },
    { requestHeaders: [['Range', rangeValue], ...extra], expect: 'cached', expectStatus, ...(expectBody !== undefined ? { expectBody } : {}),
      ...(contentRange ? { expectHeaders: [['Content-Range', contentRange]] as [string, string][] } : {}) }] };
}

export const partialCases: Case[] = [
  range('partial-store-complete-reuse-partial', 'optimal', 'serves a range from a stored complete response', 'bytes=0-4', 206, '01234', [], 'bytes 0-4/16'),
  range('partial-store-complete-reuse-partial-no-last', 'optimal', 'serves an open-ended range', 'bytes=10-', 206, 'abcdef', [], 'bytes 10-15/16'),
  range('partial-store-complete-reuse-partial-suffix', 'optimal', 'serves a suffix range', 'bytes=-5', 206, 'bcdef', [], 'bytes 11-15/16'),
  range('partial-store-complete-reuse-partial-unsatisfiable', 'optimal', 'answers an unsatisfiable range with 416', 'bytes=100-', 416, undefined, [], 'bytes */16'),
  range('partial-store-complete-if-range-match', 'optimal', 'If-Range matching the ETag yields the range', 'bytes=0-4', 206, '01234', [['If-Range', '"abc"']]),
  range('partial-store-complete-if-range-mismatch', 'required', 'If-Range not matching yields the whole response', 'bytes=0-4', 200, BODY, [['If-Range', '"other"']]),
  range('partial-store-complete-invalid-range', 'required', 'a malformed Range is ignored: the whole response', 'bytes=x-y', 200, BODY),
  // RFC 9111 §3.3: a cache MAY store an incomplete response and serve a range request it covers
  { id: 'partial-store-partial-reuse-partial', group: p, kind: 'optimal', name: 'stores a 206 and reuses it for the same range', steps: [
    { requestHeaders: [['Range', 'bytes=0-4']], status: 206, responseHeaders: [...FRESH, ['Content-Range', 'bytes 0-4/16'], ['ETag', '"abc"']], body: '01234' },
    { requestHeaders: [['Range', 'bytes=0-4']], expect: 'cached', expectStatus: 206, expectBody: '01234', expectHeaders: [['Content-Range', 'bytes 0-4/16']] }] },
  { id: 'partial-not-stored-as-complete', group: p, kind: 'required', name: 'a 206 is never served to a request without Range', steps: [
    { requestHeaders: [['Range', 'bytes=0-4']], status: 206, responseHeaders: [...FRESH, ['Content-Range', 'bytes 0-4/16'], ['ETag', '"abc"']], body: '01234' },
    { status: 200, responseHeaders: [...FRESH, ['ETag', '"abc"']], body: BODY, expectStatus: 200, expectBody: BODY }] },
  { id: 'partial-forward-range', group: p, kind: 'optimal', name: 'a Range request on a miss is passed on, 206 returned', steps: [
    { requestHeaders: [['Range', 'bytes=0-4']], status: 206, responseHeaders: [...FRESH, ['Content-Range', 'bytes 0-4/16']], body: '01234', expectStatus: 206, expectBody: '01234' }] },
];

const s = 'stale';
export const staleCases: Case[] = [
  reuse(s, 'optimal', 'stale-while-revalidate', 'serves stale within stale-while-revalidate', [cc('max-age=1, stale-while-revalidate=60')], 'cached', PAUSE, { allowBackground: true }),
  { id: 'stale-while-revalidate-refreshed', group: s, kind: 'optimal', name: 'revalidates in the background after serving stale', steps: [
    { responseHeaders: [cc('max-age=1, stale-while-revalidate=60')] },
    { pause: PAUSE, expect: 'cached', allowBackground: true, responseHeaders: [cc('max-age=3600')] },
    { pause: 1, expect: 'cached', expectHeaders: [['Cache-Control', 'max-age=3600']] }] },
  reuse(s, 'required', 'stale-while-revalidate-window', 'must not serve stale past the stale-while-revalidate window', [cc('max-age=1, stale-while-revalidate=1')], 'not_cached', 3),
  { id: 'stale-sie-503', group: s, kind: 'optimal', name: 'serves stale on a 503 within stale-if-error', steps: [
    { responseHeaders: [cc('max-age=1, stale-if-error=60')] }, { pause: PAUSE, status: 503, responseHeaders: [], expectStatus: 200, expectBody: '{mode}:stale-sie-503#0' }] },
  { id: 'stale-sie-close', group: s, kind: 'optimal', name: 'serves stale when the origin drops the connection, within stale-if-error', steps: [
    { responseHeaders: [cc('max-age=1, stale-if-error=60')] }, { pause: PAUSE, disconnect: true, expectStatus: 200 }] },
  { id: 'stale-sie-expired', group: s, kind: 'required', name: 'must not serve stale past the stale-if-error window', steps: [
    { responseHeaders: [cc('max-age=1, stale-if-error=1')] }, { pause: 3, status: 503, responseHeaders: [], expectStatus: 503 }] },
  { id: 'stale-503-no-sie', group: s, kind: 'required', name: 'a connected cache passes a 503 on instead of serving stale', steps: [
    { responseHeaders: [cc('max-age=1')] }, { pause: PAUSE, status: 503, responseHeaders: [], expectStatus: 503 }] },
  { id: 'stale-close-must-revalidate', group: s, kind: 'required', name: 'must not serve stale must-revalidate when the origin is unreachable', steps: [
    { responseHeaders: [cc('max-age=1, must-revalidate, stale-if-error=60')] }, { pause: PAUSE, disconnect: true, expectStatus: 504 }] },
  // RFC 9111 §4.2.4: a disconnected cache may serve stale (larder's default offline grace), never a response
  // whose freshness must be checked (must-revalidate §5.2.2.2, proxy-revalidate §5.2.2.8, s-maxage §5.2.2.10, no-cache §5.2.2.4)
  { id: 'stale-close-offline', group: s, kind: 'optimal', name: 'serves stale when the origin drops the connection (disconnected), saying so in Cache-Status', steps: [
    { responseHeaders: [cc('max-age=1')] },
    { pause: PAUSE, disconnect: true, expectStatus: 200, expectBody: '{mode}:stale-close-offline#0', expectHeaders: [['cache-status', /fwd=stale;.*detail=offline:reset/]] }] },
  { id: 'stale-close-proxy-revalidate', group: s, kind: 'required', name: 'must not serve stale proxy-revalidate when the origin is unreachable', steps: [
    { responseHeaders: [cc('max-age=1, proxy-revalidate')] }, { pause: PAUSE, disconnect: true, expectStatus: 504 }] },
  { id: 'stale-close-s-maxage', group: s, kind: 'required', name: 'must not serve stale s-maxage when the origin is unreachable', steps: [
    { responseHeaders: [cc('s-maxage=1')] }, { pause: PAUSE, disconnect: true, expectStatus: 504 }] },
  { id: 'stale-close-no-cache', group: s, kind: 'required', name: 'must not serve a no-cache response unvalidated when the origin is unreachable', steps: [
    { responseHeaders: [cc('no-cache'), ['ETag', '"nc"']] }, { disconnect: true, expectStatus: 502 }] },
  { id: 'stale-sie-request', group: s, kind: 'optimal', name: 'a request stale-if-error allows stale on error', steps: [
    { responseHeaders: [cc('max-age=1')] }, { pause: PAUSE, status: 500, responseHeaders: [], requestHeaders: [cc('stale-if-error=60')], expectStatus: 200 }] },
];

const m = 'method';
export const methodCases: Case[] = [
  { id: 'method-POST-not-reused', group: m, kind: 'required', name: 'a POST response is not reused for a later POST', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: FRESH }, { method: 'POST', requestBody: 'a', expect: 'not_cached' }] },
  { id: 'method-POST', group: m, kind: 'optimal', name: 'reuses a POST response with Content-Location of the URL for a GET', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: [...FRESH, ['Content-Location', '{base}']] }, { expect: 'cached' }] },
  // RFC 9110 §9.3.3: "Responses to POST requests are only cacheable when they include explicit freshness
  // information ... and a Content-Location header field that has the same value as the POST's target URI"
  { id: 'method-POST-replaces-stored', group: m, kind: 'optimal', name: 'a reusable POST response replaces the stored GET response', steps: [
    { responseHeaders: FRESH }, { expect: 'cached' },
    { method: 'POST', requestBody: 'a', responseHeaders: [...FRESH, ['Content-Location', '{base}']] },
    { expect: 'cached', expectBody: '{mode}:method-POST-replaces-stored#2' }] },
  { id: 'method-POST-no-freshness', group: m, kind: 'required', name: 'a POST response without explicit freshness is not reused for a GET', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: [['Content-Location', '{base}'], ['Last-Modified', { ago: 100000 }]] }, { expect: 'not_cached' }] },
  { id: 'method-POST-other-content-location', group: m, kind: 'required', name: 'a POST response whose Content-Location names another URI is not reused for the target', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: [...FRESH, ['Content-Location', '{base}/elsewhere']] }, { expect: 'not_cached' }] },
  { id: 'method-POST-no-content-location', group: m, kind: 'required', name: 'a fresh POST response without Content-Location is not reused for a GET', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: FRESH }, { expect: 'not_cached' }] },
  { id: 'method-POST-no-store', group: m, kind: 'required', name: 'a POST response with no-store is not stored', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: [cc('max-age=3600, no-store'), ['Content-Location', '{base}']] }, { expect: 'not_cached' }] },
  { id: 'method-POST-error', group: m, kind: 'required', name: 'a POST answered 500 is not reused for a GET', steps: [
    { method: 'POST', requestBody: 'a', status: 500, responseHeaders: [...FRESH, ['Content-Location', '{base}']] }, { status: 200, responseHeaders: FRESH, expect: 'not_cached' }] },
  // Node's parser (llhttp) refuses methods it does not know with 400 before any proxy code runs, so an
  // extension method it knows (WebDAV) stands in for "a method the cache does not understand"
  { id: 'method-unknown-not-cached', group: m, kind: 'required', name: 'a method the cache does not understand is never answered from cache', steps: [
    { responseHeaders: FRESH }, { method: 'PROPFIND', expect: 'not_cached' }] },
  { id: 'method-HEAD-from-GET', group: m, kind: 'optimal', name: 'answers HEAD from a stored GET response', steps: [
    { responseHeaders: [...FRESH, ['Test-Header', 'A']] }, { method: 'HEAD', expect: 'cached', expectStatus: 200, expectHeaders: [['Test-Header', 'A']], expectBody: '' }] },
  { id: 'method-GET-not-from-HEAD', group: m, kind: 'required', name: 'a HEAD response is never used for a GET (it has no body)', steps: [
    { method: 'HEAD', responseHeaders: FRESH }, { expect: 'not_cached', expectBody: '{mode}:method-GET-not-from-HEAD#1' }] },
  { id: 'method-OPTIONS-not-cached', group: m, kind: 'required', name: 'OPTIONS is forwarded', steps: [
    { responseHeaders: FRESH }, { method: 'OPTIONS', expect: 'not_cached' }] },
];

const o = 'other';
const AUTH: HeaderList = [['Authorization', 'Basic YWJjOmRlZg==']];
/** Both requests carry Authorization (RFC 9111 §3.5 is about storing a response to such a request). */
function auth(id: string, kind: Case['kind'], name: string, headers: HeaderList, expect: 'cached' | 'not_cached'): Case {
  return { id, group: o, kind, name, steps: [{ requestHeaders: AUTH, responseHeaders: headers }, { requestHeaders: AUTH, expect }] };
}

export const otherCases: Case[] = [
  auth('other-authorization', 'required', 'must not reuse a response to an Authorization request', FRESH, 'not_cached'),
  auth('other-authorization-public', 'optimal', 'reuses an Authorization response marked public', [cc('max-age=3600, public')], 'cached'),
  auth('other-authorization-smaxage', 'optimal', 'reuses an Authorization response with s-maxage', [cc('s-maxage=3600')], 'cached'),
  auth('other-authorization-must-revalidate', 'optimal', 'reuses a fresh Authorization response with must-revalidate', [cc('max-age=3600, must-revalidate')], 'cached'),
  { ...reuse(o, 'optimal', 'other-set-cookie', 'stores a response with Set-Cookie (without the cookie being private)', [...FRESH, ['Set-Cookie', 'a=b']], 'cached'),
    skipReason: 'DESIGN invariant 6: Set-Cookie responses are shared only when public or shareSetCookie is on' },
  reuse(o, 'optimal', 'other-set-cookie-public', 'reuses a public response with Set-Cookie', [cc('max-age=3600, public'), ['Set-Cookie', 'a=b']], 'cached'),
  reuse(o, 'optimal', 'other-cookie', 'a request Cookie does not prevent reuse', FRESH, 'cached', 0, { requestHeaders: [['Cookie', 'a=b']] }),
  reuse(o, 'optimal', 'other-fresh-content-disposition-attachment', 'reuses a Content-Disposition: attachment response', [...FRESH, ['Content-Disposition', 'attachment; filename=a.txt']], 'cached'),
  { id: 'query-args-same', group: o, kind: 'optimal', name: 'reuses for the same query', steps: [
    { query: '?a=b', responseHeaders: FRESH }, { query: '?a=b', expect: 'cached' }] },
  { id: 'query-args-different', group: o, kind: 'required', name: 'a different query is a different resource', steps: [
    { query: '?a=b', responseHeaders: FRESH }, { query: '?a=c', expect: 'not_cached' }] },
  { id: 'other-304-no-body', group: o, kind: 'required', name: 'a stored 200 answered from cache keeps its body', steps: [
    { responseHeaders: FRESH }, { expect: 'cached', expectBody: '{mode}:other-304-no-body#0' }] },

  // Cache-Status (RFC 9211) on every response: DESIGN invariant 3
  { id: 'cache-status-miss-hit', group: 'cache-status', kind: 'required', name: 'Cache-Status names a forward on a miss and a hit on reuse', steps: [
    { responseHeaders: FRESH, expectHeaders: [['Cache-Status', /^larder; fwd=uri-miss; fwd-status=200; stored/]] },
    { expect: 'cached', expectHeaders: [['Cache-Status', /^larder; hit/]] }] },
  { id: 'cache-status-stale', group: 'cache-status', kind: 'required', name: 'Cache-Status says fwd=stale when validating', steps: [
    { responseHeaders: [cc('max-age=1'), ['ETag', '"a"']] },
    { pause: PAUSE, expect: 'etag_validated', expectHeaders: [['Cache-Status', /fwd=stale; fwd-status=304/]] }] },
  { id: 'cache-status-method', group: 'cache-status', kind: 'required', name: 'Cache-Status says fwd=method for POST', steps: [
    { method: 'POST', requestBody: 'a', responseHeaders: [], expectHeaders: [['Cache-Status', /fwd=method/]] }] },
  { id: 'cache-status-upstream-appended', group: 'cache-status', kind: 'optimal', name: 'an upstream Cache-Status is kept and ours appended', steps: [
    { responseHeaders: [...FRESH, ['Cache-Status', 'upstream; hit']], expectHeaders: [['Cache-Status', /^upstream; hit, larder; fwd=/]] }] },
];
