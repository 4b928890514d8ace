/**
 * Further cases in the spirit of cache-tests: edges of the same rules (combinations, repeated fields,
 * revalidation of ranges and conditionals, what a 304 may carry into the stored response).
 */
import type { Case, HeaderList } from '../types.js';
import { cc, reuse, twoStep, PAUSE } from './util.js';

const FRESH: HeaderList = [cc('max-age=3600')];
const ETAG: [string, string] = ['ETag', '"abcdef"'];

export const probeCases: Case[] = [
  reuse('freshness', 'required', 'freshness-s-maxage-0', 's-maxage=0 wins over max-age for a shared cache', [cc('max-age=3600, s-maxage=0')], 'not_cached'),
  reuse('freshness', 'optimal', 'freshness-max-age-age-under', 'max-age=3600 with Age: 3000 is still fresh', [cc('max-age=3600'), ['Age', '3000']], 'cached'),
  reuse('freshness', 'optimal', 'freshness-date-future', 'Expires counts from a Date ahead of our clock', [['Date', { fromNow: 3600 }], ['Expires', { fromNow: 7200 }]], 'cached'),
  reuse('freshness', 'optimal', 'freshness-expires-dup-same', 'two identical Expires lines are one Expires', [['Expires', 'Fri, 01 Jan 2100 00:00:00 GMT'], ['Expires', 'Fri, 01 Jan 2100 00:00:00 GMT']], 'cached'),
  reuse('freshness', 'optimal', 'freshness-expires-with-public', 'Expires applies alongside Cache-Control: public', [cc('public'), ['Expires', { fromNow: 3600 }]], 'cached'),
  reuse('cc-request', 'required', 'ccreq-dup-lines-no-cache', 'request no-cache on a second Cache-Control line is honoured', FRESH, 'not_cached', 0, { requestHeaders: [cc('max-age=3600'), cc('no-cache')] }),
  reuse('cc-request', 'optimal', 'ccreq-no-store-stored', 'request no-store does not prevent using a stored response', FRESH, 'cached', 0, { requestHeaders: [cc('no-store')] }),
  twoStep('cc-request', 'optimal', 'ccreq-ma0-etag', 'request max-age=0 revalidates with the stored ETag', { responseHeaders: [...FRESH, ETAG] }, { requestHeaders: [cc('max-age=0')], expect: 'etag_validated', expectStatus: 200 }),
  reuse('stale', 'required', 'stale-while-revalidate-must-revalidate', 'must-revalidate forbids stale-while-revalidate', [cc('max-age=1, must-revalidate, stale-while-revalidate=60')], 'not_cached', PAUSE),
  reuse('stale', 'required', 'stale-while-revalidate-no-cache-request', 'a request no-cache is not answered stale', [cc('max-age=1, stale-while-revalidate=60')], 'not_cached', PAUSE, { requestHeaders: [cc('no-cache')] }),

  // what a 304 may carry into the stored response
  {
    id: '304-set-cookie-not-shared', group: 'update304', kind: 'required', name: 'a Set-Cookie in a 304 is not stored for other clients (DESIGN invariant 6)', steps: [
      { responseHeaders: [cc('max-age=1'), ETAG] },
      { pause: PAUSE, responseHeaders: [cc('max-age=3600'), ETAG, ['Set-Cookie', 'session=secret']], expect: 'etag_validated', expectStatus: 200 },
      { expect: 'cached', expectHeadersMissing: ['Set-Cookie'] },
    ],
  },
  {
    id: '304-private-not-shared', group: 'update304', kind: 'required', name: 'a 304 that says private does not leave a shared response reusable', steps: [
      { responseHeaders: [cc('max-age=1'), ETAG] },
      { pause: PAUSE, responseHeaders: [cc('private, max-age=3600'), ETAG], answer304: true },
      { responseHeaders: [cc('private, max-age=3600'), ETAG], expect: 'not_cached' },
    ],
  },
  {
    id: '304-age-reset', group: 'update304', kind: 'optimal', name: 'after a 304 the Age starts again from the 304', steps: [
      { responseHeaders: [cc('max-age=1'), ETAG, ['Age', '50']] },
      { pause: PAUSE, responseHeaders: [cc('max-age=3600'), ETAG], expect: 'etag_validated' },
      { expect: 'cached', expectHeaders: [['Age', /^[0-4]$/]] },
    ],
  },
  {
    id: '304-no-store-evicts', group: 'update304', kind: 'required', name: 'a 304 with no-store leaves nothing reusable', steps: [
      { responseHeaders: [cc('max-age=1'), ETAG] },
      { pause: PAUSE, responseHeaders: [cc('no-store'), ETAG], answer304: true },
      { responseHeaders: [cc('max-age=3600'), ETAG], expect: 'not_cached' },
    ],
  },

  // conditionals and ranges against stale entries
  twoStep('partial', 'optimal', 'partial-stale-revalidate-range', 'a Range on a stale entry revalidates, then serves the range', { responseHeaders: [cc('max-age=1'), ETAG], body: '0123456789' },
    { pause: PAUSE, requestHeaders: [['Range', 'bytes=2-4']], expect: 'etag_validated', expectStatus: 206, expectBody: '234' }),
  twoStep('conditional', 'optimal', 'conditional-if-match-fails', 'If-Match not matching the stored ETag: 412', { responseHeaders: [...FRESH, ETAG] },
    { requestHeaders: [['If-Match', '"other"']], expect: 'cached', expectStatus: 412 }),
  twoStep('conditional', 'required', 'conditional-ims-stored-304-keeps-body', 'a client If-Modified-Since older than the stored Last-Modified gets the body', { responseHeaders: [...FRESH, ['Last-Modified', { ago: 100 }]] },
    { requestHeaders: [['If-Modified-Since', { ago: 5000 }]], expect: 'cached', expectStatus: 200, expectBody: '{mode}:conditional-ims-stored-304-keeps-body#0' }),
  twoStep('headers', 'optimal', 'headers-chunked-stored', 'a chunked response is stored and served with its length', { responseHeaders: [...FRESH, ['Transfer-Encoding', 'chunked']] },
    { expect: 'cached', expectHeaders: [['Content-Length', String('forward:headers-chunked-stored#0'.length)]], expectHeadersMissing: ['Transfer-Encoding'] }),
  twoStep('method', 'optimal', 'method-HEAD-content-length', 'HEAD from cache carries the stored body length', { responseHeaders: FRESH, body: '0123456789' },
    { method: 'HEAD', expect: 'cached', expectHeaders: [['Content-Length', '10']] }),
  { id: 'invalidate-POST-303', group: 'invalidation', kind: 'required', name: 'a POST answered 303 invalidates the target', steps: [
    { responseHeaders: FRESH }, { method: 'POST', requestBody: 'x', status: 303, responseHeaders: [['Location', '{base}/done']] },
    { status: 200, responseHeaders: FRESH, expect: 'not_cached' }] },
  { id: 'vary-changed-vary', group: 'vary', kind: 'optimal', name: 'a new Vary replaces the variants stored under the old one', steps: [
    { requestHeaders: [['Foo', '1'], ['Bar', 'a']], responseHeaders: [...FRESH, ['Vary', 'Foo']] },
    { requestHeaders: [['Foo', '2'], ['Bar', 'a']], responseHeaders: [...FRESH, ['Vary', 'Bar']], expect: 'not_cached' },
    { requestHeaders: [['Foo', '3'], ['Bar', 'a']], expect: 'cached' }] },
  { id: 'stale-500-must-revalidate', group: 'stale', kind: 'optimal', name: 'a must-revalidate entry whose origin answers 500 passes the 500 on', steps: [
    { responseHeaders: [cc('max-age=1, must-revalidate')] }, { pause: PAUSE, status: 500, responseHeaders: [], expectStatus: 500 }] },
  // parsing edges
  reuse('cc-parse', 'optimal', 'freshness-max-age-empty-members', 'empty list members are ignored', [cc(',, max-age=3600 ,,')], 'cached'),
  reuse('cc-parse', 'optimal', 'freshness-max-age-dup-same', 'a repeated identical max-age is fine', [cc('max-age=3600, max-age=3600')], 'cached'),
  reuse('cc-parse', 'required', 'cc-resp-s-maxage-private', 's-maxage does not override private', [cc('private, s-maxage=3600')], 'not_cached'),
  reuse('cc-parse', 'required', 'cc-resp-no-cache-expires', 'no-cache with a future Expires still revalidates', [cc('no-cache'), ['Expires', { fromNow: 3600 }]], 'not_cached'),
  reuse('cc-request', 'required', 'ccreq-max-stale-invalid', 'an invalid request max-stale does not allow stale', [cc('max-age=1')], 'not_cached', PAUSE, { requestHeaders: [cc('max-stale=abc')] }),
  reuse('freshness', 'required', 'freshness-expires-minus-one', 'Expires: -1 is already expired', [['Expires', '-1']], 'not_cached'),
  reuse('freshness', 'required', 'freshness-expires-epoch', 'Expires at the epoch is expired', [['Expires', 'Thu, 01 Jan 1970 00:00:00 GMT']], 'not_cached'),
  reuse('heuristic', 'optimal', 'heuristic-lm-asctime', 'an asctime Last-Modified gives heuristic freshness', [['Last-Modified', { ago: 100000, format: 'asctime' }]], 'cached'),
  reuse('heuristic', 'required', 'heuristic-lm-invalid', 'an invalid Last-Modified gives no heuristic freshness', [['Last-Modified', 'long ago']], 'not_cached'),
  // Vary edges
  { id: 'vary-value-case-sensitive', group: 'vary', kind: 'required', name: 'Vary-selected values compare case-sensitively (Foo: A vs Foo: a)', steps: [
    { requestHeaders: [['Foo', 'A']], responseHeaders: [...FRESH, ['Vary', 'Foo']] }, { requestHeaders: [['Foo', 'a']], expect: 'not_cached' }] },
  { id: 'vary-normalise-encoding-qvalue', group: 'vary', kind: 'optimal', name: 'Accept-Encoding whitespace around ";q=" does not matter', steps: [
    { requestHeaders: [['Accept-Encoding', 'gzip;q=1.0, br']], responseHeaders: [...FRESH, ['Vary', 'Accept-Encoding']] }, { requestHeaders: [['Accept-Encoding', 'gzip; q=1.0,br']], expect: 'cached' }] },
  { id: 'vary-accept-encoding-differs', group: 'vary', kind: 'required', name: 'a different Accept-Encoding is a different variant', steps: [
    { requestHeaders: [['Accept-Encoding', 'gzip']], responseHeaders: [...FRESH, ['Vary', 'Accept-Encoding']] }, { requestHeaders: [['Accept-Encoding', 'identity']], expect: 'not_cached' }] },
  // ranges
  twoStep('partial', 'optimal', 'partial-store-complete-reuse-multi', 'serves two ranges as multipart/byteranges', { responseHeaders: [...FRESH, ['Content-Type', 'text/plain']], body: '0123456789' },
    { requestHeaders: [['Range', 'bytes=0-1,4-5']], expect: 'cached', expectStatus: 206, expectHeaders: [['Content-Type', /^multipart\/byteranges; boundary=/]] }),
  twoStep('partial', 'optimal', 'partial-store-complete-reuse-first-byte', 'serves bytes=0-0', { responseHeaders: FRESH, body: '0123456789' },
    { requestHeaders: [['Range', 'bytes=0-0']], expect: 'cached', expectStatus: 206, expectBody: '0', expectHeaders: [['Content-Range', 'bytes 0-0/10']] }),
  twoStep('partial', 'optimal', 'partial-store-complete-reuse-clamped', 'a last-byte-pos past the end is clamped', { responseHeaders: FRESH, body: '0123456789' },
    { requestHeaders: [['Range', 'bytes=8-100']], expect: 'cached', expectStatus: 206, expectBody: '89', expectHeaders: [['Content-Range', 'bytes 8-9/10']] }),
  twoStep('partial', 'optimal', 'partial-if-range-date', 'If-Range with the Last-Modified date yields the range', { responseHeaders: [...FRESH, ['Last-Modified', { ago: 10000 }]], body: '0123456789' },
    { requestHeaders: [['Range', 'bytes=0-1'], ['If-Range', { ago: 10000 }]], expect: 'cached', expectStatus: 206, expectBody: '01' }),
  twoStep('partial', 'required', 'partial-if-range-weak', 'If-Range with a weak ETag never yields a range', { responseHeaders: [...FRESH, ['ETag', 'W/"abc"']], body: '0123456789' },
    { requestHeaders: [['Range', 'bytes=0-1'], ['If-Range', 'W/"abc"']], expect: 'cached', expectStatus: 200, expectBody: '0123456789' }),
  { id: 'partial-range-on-404', group: 'partial', kind: 'required', name: 'a Range on a stored 404 gets the 404', steps: [
    { status: 404, responseHeaders: FRESH, body: 'not here' }, { requestHeaders: [['Range', 'bytes=0-1']], expect: 'cached', expectStatus: 404, expectBody: 'not here' }] },
  twoStep('partial', 'required', 'partial-unit-unknown', 'a Range in an unknown unit is ignored', { responseHeaders: FRESH, body: '0123456789' },
    { requestHeaders: [['Range', 'items=0-1']], expect: 'cached', expectStatus: 200, expectBody: '0123456789' }),
  // keys
  { id: 'key-percent-unreserved', group: 'key', kind: 'optimal', name: '%7E and ~ name the same resource', steps: [
    { path: '/a~b', responseHeaders: FRESH }, { path: '/a%7Eb', expect: 'cached' }] },
  { id: 'key-percent-reserved', group: 'key', kind: 'required', name: '%2F and / name different resources', steps: [
    { path: '/a/b', responseHeaders: FRESH }, { path: '/a%2Fb', expect: 'not_cached' }] },
  { id: 'key-query-order', group: 'key', kind: 'required', name: 'query parameter order is significant', steps: [
    { query: '?a=1&b=2', responseHeaders: FRESH }, { query: '?b=2&a=1', expect: 'not_cached' }] },
];
