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
];
