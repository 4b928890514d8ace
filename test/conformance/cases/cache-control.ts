/** Cache-Control parsing and response/request directives (RFC 9111 §5.2). */
import type { Case } from '../types.js';
import { cc, reuse, twoStep, PAUSE } from './util.js';

const p = 'cc-parse';
const r = 'cc-response';
const q = 'cc-request';
const ETAG: [string, string] = ['ETag', '"abcdef"'];

export const cacheControlCases: Case[] = [
  // parsing
  reuse(p, 'optimal', 'freshness-max-age-quoted', 'reuses max-age="3600"', [cc('max-age="3600"')], 'cached'),
  reuse(p, 'optimal', 'freshness-max-age-case-insensitive', 'directive names are case-insensitive (Max-Age)', [cc('Max-Age=3600')], 'cached'),
  reuse(p, 'optimal', 'freshness-max-age-leading-zero', 'reuses max-age=0003600', [cc('max-age=0003600')], 'cached'),
  reuse(p, 'optimal', 'freshness-max-age-extension', 'ignores unknown directives', [cc('foo=bar, max-age=3600, baz')], 'cached'),
  reuse(p, 'optimal', 'freshness-max-age-after-quoted-comma', 'a quoted comma does not split the list', [cc('foo="max-age=1, bar", max-age=3600')], 'cached', PAUSE),
  reuse(p, 'required', 'freshness-max-age-single-quoted', "must not reuse max-age='3600' (invalid)", [cc("max-age='3600'")], 'not_cached', PAUSE),
  reuse(p, 'optimal', 'freshness-max-age-decimal', 'treats max-age=3600.5 as invalid', [cc('max-age=3600.5')], 'not_cached'),
  reuse(p, 'optimal', 'freshness-max-age-space-before-equals', 'treats "max-age =3600" as invalid', [cc('max-age =3600')], 'not_cached'),
  reuse(p, 'optimal', 'freshness-max-age-space-after-equals', 'treats "max-age= 3600" as invalid', [cc('max-age= 3600')], 'not_cached'),
  reuse(p, 'required', 'freshness-max-age-two-stale-fresh-sameline', 'max-age=1, max-age=3600: first wins or stale', [cc('max-age=1, max-age=3600')], 'not_cached', PAUSE),
  reuse(p, 'required', 'freshness-max-age-two-stale-fresh-sepline', 'max-age=1 and max-age=3600 on two lines: first wins or stale', [cc('max-age=1'), cc('max-age=3600')], 'not_cached', PAUSE),
  reuse(p, 'required', 'cc-resp-no-store-case-insensitive', 'No-Store is no-store', [cc('max-age=3600, No-Store')], 'not_cached'),
  reuse(p, 'required', 'cc-resp-no-cache-case-insensitive', 'No-Cache is no-cache', [cc('max-age=3600, No-Cache')], 'not_cached'),
  reuse(p, 'required', 'cc-resp-no-store-trailing-semicolon', 'a malformed "no-store;" is still read as no-store', [cc('max-age=3600, no-store;')], 'not_cached'),

  // response directives
  reuse(r, 'required', 'cc-resp-no-store', 'must not store no-store', [cc('no-store')], 'not_cached'),
  reuse(r, 'required', 'cc-resp-no-store-fresh', 'must not store no-store, max-age=3600', [cc('no-store, max-age=3600')], 'not_cached'),
  reuse(r, 'required', 'cc-resp-no-store-old-max-age', 'must not store max-age=3600, no-store', [cc('max-age=3600, no-store')], 'not_cached'),
  reuse(r, 'required', 'cc-resp-no-store-sepline', 'no-store on its own line', [cc('max-age=3600'), cc('no-store')], 'not_cached'),
  reuse(r, 'required', 'cc-resp-no-cache', 'must not reuse no-cache without validation', [cc('no-cache')], 'not_cached'),
  reuse(r, 'required', 'cc-resp-no-cache-fresh', 'must not reuse max-age=3600, no-cache without validation', [cc('max-age=3600, no-cache')], 'not_cached'),
  twoStep(r, 'optimal', 'cc-resp-no-cache-revalidate', 'stores no-cache and revalidates it', { responseHeaders: [cc('no-cache'), ETAG] }, { expect: 'etag_validated', expectStatus: 200 }),
  twoStep(r, 'optimal', 'cc-resp-no-cache-revalidate-fresh', 'stores max-age=3600, no-cache and revalidates it', { responseHeaders: [cc('max-age=3600, no-cache'), ETAG] }, { expect: 'etag_validated', expectStatus: 200 }),
  reuse(r, 'optimal', 'cc-resp-must-revalidate-fresh', 'reuses a fresh must-revalidate response', [cc('max-age=3600, must-revalidate')], 'cached'),
  reuse(r, 'required', 'cc-resp-must-revalidate-stale', 'must not reuse a stale must-revalidate response', [cc('max-age=1, must-revalidate')], 'not_cached', PAUSE),
  reuse(r, 'required', 'cc-resp-proxy-revalidate-stale', 'a shared cache must not reuse a stale proxy-revalidate response', [cc('max-age=1, proxy-revalidate')], 'not_cached', PAUSE),
  reuse(r, 'required', 'cc-resp-private-shared', 'a shared cache must not store private', [cc('private, max-age=3600')], 'not_cached'),
  reuse(r, 'optimal', 'cc-resp-public-heuristic', 'public allows heuristic freshness for a 200 with Last-Modified', [cc('public'), ['Last-Modified', { ago: 100000 }]], 'cached'),
  reuse(r, 'optimal', 'cc-resp-must-understand-no-store', 'must-understand overrides no-store for an understood status', [cc('must-understand, no-store, max-age=3600')], 'cached'),
  { id: 'cc-resp-must-understand-unknown-status', group: r, kind: 'required', name: 'must not store must-understand with a status it does not understand', steps: [
    { status: 299, responseHeaders: [cc('must-understand, max-age=3600')] }, { expect: 'not_cached' }] },
  reuse(r, 'optimal', 'cc-resp-no-transform', 'no-transform does not prevent reuse', [cc('max-age=3600, no-transform')], 'cached'),
  reuse(r, 'optimal', 'cc-resp-immutable', 'immutable with max-age is reused', [cc('max-age=3600, immutable')], 'cached'),

  // request directives
  reuse(q, 'required', 'ccreq-ma0', 'must not reuse for a request with max-age=0', [cc('max-age=3600')], 'not_cached', 0, { requestHeaders: [cc('max-age=0')] }),
  reuse(q, 'required', 'ccreq-ma1', 'must not reuse a response older than the request max-age=1', [cc('max-age=3600')], 'not_cached', PAUSE, { requestHeaders: [cc('max-age=1')] }),
  reuse(q, 'optimal', 'ccreq-magreaterage', 'reuses when the request max-age exceeds the age', [cc('max-age=3600')], 'cached', 0, { requestHeaders: [cc('max-age=1800')] }),
  reuse(q, 'optimal', 'ccreq-max-stale', 'reuses a stale response within the request max-stale', [cc('max-age=1')], 'cached', PAUSE, { requestHeaders: [cc('max-stale=1000')] }),
  reuse(q, 'optimal', 'ccreq-max-stale-novalue', 'reuses a stale response for max-stale without a value', [cc('max-age=1')], 'cached', PAUSE, { requestHeaders: [cc('max-stale')] }),
  reuse(q, 'required', 'ccreq-max-stale-age', 'must not reuse a response staler than max-stale', [cc('max-age=1'), ['Age', '2000']], 'not_cached', 0, { requestHeaders: [cc('max-stale=1000')] }),
  reuse(q, 'required', 'ccreq-max-stale-must-revalidate', 'max-stale does not override must-revalidate', [cc('max-age=1, must-revalidate')], 'not_cached', PAUSE, { requestHeaders: [cc('max-stale=1000')] }),
  reuse(q, 'optimal', 'ccreq-min-fresh', 'reuses when min-fresh is satisfied', [cc('max-age=1500')], 'cached', 0, { requestHeaders: [cc('min-fresh=1000')] }),
  reuse(q, 'required', 'ccreq-min-fresh-age', 'must not reuse when min-fresh is not satisfied', [cc('max-age=1500'), ['Age', '1000']], 'not_cached', 0, { requestHeaders: [cc('min-fresh=1000')] }),
  reuse(q, 'required', 'ccreq-no-cache', 'must not reuse for a request with no-cache', [cc('max-age=3600')], 'not_cached', 0, { requestHeaders: [cc('no-cache')] }),
  twoStep(q, 'optimal', 'ccreq-no-cache-etag', 'request no-cache revalidates with If-None-Match', { responseHeaders: [cc('max-age=3600'), ETAG] }, { requestHeaders: [cc('no-cache')], expect: 'etag_validated', expectStatus: 200 }),
  twoStep(q, 'optimal', 'ccreq-no-cache-lm', 'request no-cache revalidates with If-Modified-Since', { responseHeaders: [cc('max-age=3600'), ['Last-Modified', { ago: 10000 }]] }, { requestHeaders: [cc('no-cache')], expect: 'lm_validated', expectStatus: 200 }),
  { id: 'ccreq-no-store', group: q, kind: 'required', name: 'must not store a response to a request with no-store', steps: [
    { requestHeaders: [cc('no-store')], responseHeaders: [cc('max-age=3600')] }, { expect: 'not_cached' }] },
  { id: 'ccreq-oic', group: q, kind: 'required', name: 'only-if-cached with nothing stored: 504, origin not contacted', steps: [
    { requestHeaders: [cc('only-if-cached')], responseHeaders: [cc('max-age=3600')], expectStatus: 504, expect: 'cached' }] },
  reuse(q, 'optimal', 'ccreq-oic-stored', 'only-if-cached with a fresh stored response serves it', [cc('max-age=3600')], 'cached', 0, { requestHeaders: [cc('only-if-cached')], expectStatus: 200 }),
  reuse(q, 'optimal', 'ccreq-oic-stale', 'only-if-cached with a stale stored response: 504 without contacting the origin', [cc('max-age=1')], 'cached', PAUSE, { requestHeaders: [cc('only-if-cached')], expectStatus: 504 }),

  // Pragma (RFC 9111 §5.4)
  reuse('pragma', 'optimal', 'pragma-request-no-cache', 'request Pragma: no-cache without Cache-Control is no-cache', [cc('max-age=3600')], 'not_cached', 0, { requestHeaders: [['Pragma', 'no-cache']] }),
  reuse('pragma', 'optimal', 'pragma-request-no-cache-with-cc', 'request Pragma is ignored when Cache-Control is present', [cc('max-age=3600')], 'cached', 0, { requestHeaders: [['Pragma', 'no-cache'], cc('max-age=3600')] }),
  reuse('pragma', 'optimal', 'pragma-response-no-cache', 'response Pragma: no-cache has no effect with max-age', [cc('max-age=3600'), ['Pragma', 'no-cache']], 'cached'),
  reuse('pragma', 'required', 'pragma-response-no-cache-heuristic', 'response Pragma does not make a response fresh', [['Pragma', 'no-cache']], 'not_cached'),
];
