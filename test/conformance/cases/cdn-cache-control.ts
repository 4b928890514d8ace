/**
 * Targeted cache-control fields (RFC 9213). https://www.rfc-editor.org/rfc/rfc9213
 * In reverse mode larder is the origin's CDN cache and obeys CDN-Cache-Control by default; in forward mode it
 * is not a CDN, so the field is ignored unless `cdnCacheControlForward` is on.
 */
import type { Case, HeaderList } from '../types.js';
import { cc, PAUSE } from './util.js';

const g = 'cdn-cache-control';
const CDN = (v: string): [string, string] => ['CDN-Cache-Control', v];

function pair(id: string, kind: Case['kind'], name: string, headers: HeaderList, expect: 'cached' | 'not_cached' | 'etag_validated', onlyIn: Case['onlyIn'], pause = 0, extra: Partial<Case['steps'][number]> = {}): Case {
  return { id, group: g, kind, name, onlyIn, steps: [{ responseHeaders: headers }, { expect, ...(pause ? { pause } : {}), ...extra }] };
}

/** Cases for the default configuration (CDN-Cache-Control, obeyed in reverse mode only). */
export const cdnCacheControlCases: Case[] = [
  // §2.2: "the cache MUST select the first (in target list order) field with a valid value and use its value
  // to determine the caching policy for the response, and it MUST ignore the Cache-Control and Expires header
  // fields in that response"
  pair('cdn-max-age-over-cc-no-store', 'required', 'CDN-Cache-Control max-age wins over Cache-Control no-store', [cc('no-store'), CDN('max-age=3600')], 'cached', 'reverse'),
  pair('cdn-max-age-over-cc-max-age-0', 'required', 'CDN-Cache-Control max-age wins over Cache-Control max-age=0', [cc('max-age=0'), CDN('max-age=3600')], 'cached', 'reverse'),
  pair('cdn-no-store-over-cc', 'required', 'CDN-Cache-Control no-store wins over Cache-Control max-age', [cc('max-age=3600'), CDN('no-store')], 'not_cached', 'reverse'),
  pair('cdn-private-over-cc', 'required', 'CDN-Cache-Control private wins over Cache-Control public', [cc('public, max-age=3600'), CDN('private')], 'not_cached', 'reverse'),
  pair('cdn-no-cache-over-cc', 'required', 'CDN-Cache-Control no-cache makes every reuse a validation', [cc('max-age=3600'), CDN('no-cache'), ['ETag', '"cdn"']], 'etag_validated', 'reverse'),
  pair('cdn-max-age-over-expires', 'required', 'CDN-Cache-Control max-age wins over a later Expires', [CDN('max-age=1'), ['Expires', { fromNow: 3600 }]], 'not_cached', 'reverse', PAUSE),
  pair('cdn-max-age-over-expires-past', 'required', 'CDN-Cache-Control max-age wins over an Expires in the past', [CDN('max-age=3600'), ['Expires', { fromNow: -3600 }]], 'cached', 'reverse'),
  pair('cdn-max-age-over-cc-longer', 'required', 'a shorter CDN-Cache-Control max-age wins over a longer Cache-Control one', [cc('max-age=3600'), CDN('max-age=1')], 'not_cached', 'reverse', PAUSE),
  pair('cdn-s-maxage-ignored', 'optimal', 's-maxage in CDN-Cache-Control gives no freshness (the field addresses this cache: max-age does)', [cc('max-age=3600'), CDN('s-maxage=3600')], 'not_cached', 'reverse'),
  pair('cdn-lines-combined', 'required', 'two CDN-Cache-Control lines are one dictionary', [cc('max-age=3600'), CDN('max-age=3600'), CDN('no-store')], 'not_cached', 'reverse'),
  pair('cdn-later-key-wins', 'optimal', 'a repeated key: the last value counts (RFC 8941 §3.2)', [cc('no-store'), CDN('max-age=0, max-age=3600')], 'cached', 'reverse'),
  // §2.1: "If a targeted field in a given response is empty, or a parsing error is encountered, that field
  // SHOULD be ignored by the cache"; then Cache-Control applies (§2.2 "unless no valid targeted field is present")
  pair('cdn-invalid-upper-case-key', 'required', 'an invalid CDN-Cache-Control (upper-case key) is ignored: Cache-Control no-store applies', [cc('no-store'), CDN('Max-Age=3600')], 'not_cached', 'reverse'),
  pair('cdn-invalid-syntax-cc-applies', 'optimal', 'an invalid CDN-Cache-Control is ignored: Cache-Control max-age applies', [cc('max-age=3600'), CDN('no-store, "x"')], 'cached', 'reverse'),
  pair('cdn-invalid-trailing-comma', 'required', 'a trailing comma makes the field invalid as a whole', [cc('no-store'), CDN('max-age=3600,')], 'not_cached', 'reverse'),
  pair('cdn-empty-ignored', 'required', 'an empty CDN-Cache-Control is ignored', [cc('no-store'), CDN('')], 'not_cached', 'reverse'),
  // §3.1: CDN-Cache-Control is for every CDN cache on the path: passed on, from the origin and from the cache
  pair('cdn-passed-downstream', 'required', 'CDN-Cache-Control is passed downstream, also from the cache', [CDN('max-age=3600')], 'cached', 'reverse', 0,
    { expectHeaders: [['CDN-Cache-Control', 'max-age=3600']] }),
  // forward mode: larder is the client's proxy, not a CDN: the field is not for it
  pair('cdn-ignored-forward-no-store', 'required', 'forward mode: CDN-Cache-Control no-store does not stop Cache-Control max-age', [cc('max-age=3600'), CDN('no-store')], 'cached', 'forward', 0,
    { expectHeaders: [['CDN-Cache-Control', 'no-store']] }),
  pair('cdn-ignored-forward-max-age', 'required', 'forward mode: CDN-Cache-Control max-age does not override Cache-Control no-store', [cc('no-store'), CDN('max-age=3600')], 'not_cached', 'forward'),
];

const L = (v: string): [string, string] => ['Larder-Cache-Control', v];

/** Cases for `cdnCacheControlName: [Larder-Cache-Control, CDN-Cache-Control]` and `cdnCacheControlForward: true`. */
export const cdnListCases: Case[] = [
  pair('cdn-list-first-wins', 'required', 'the first listed field wins: Larder-Cache-Control over CDN-Cache-Control', [cc('no-store'), CDN('no-store'), L('max-age=3600')], 'cached', undefined),
  pair('cdn-list-first-wins-no-store', 'required', 'the first listed field wins: its no-store over CDN-Cache-Control max-age', [cc('max-age=3600'), CDN('max-age=3600'), L('no-store')], 'not_cached', undefined),
  pair('cdn-list-invalid-first-next', 'required', 'an invalid first field is skipped for the next valid one', [cc('no-store'), L('max-age=3600;'), CDN('max-age=3600')], 'cached', undefined),
  pair('cdn-list-second-alone', 'required', 'the second listed field applies when the first is absent', [cc('no-store'), CDN('max-age=3600')], 'cached', undefined),
  // a field naming larder alone is removed; the generic one goes on to the next CDN hop
  { id: 'cdn-list-own-field-removed', group: g, kind: 'required', name: 'Larder-Cache-Control is removed downstream, CDN-Cache-Control is kept', steps: [
    { responseHeaders: [L('max-age=3600'), CDN('max-age=60')], expectHeadersMissing: ['Larder-Cache-Control'], expectHeaders: [['CDN-Cache-Control', 'max-age=60']] },
    { expect: 'cached', expectHeadersMissing: ['Larder-Cache-Control'], expectHeaders: [['CDN-Cache-Control', 'max-age=60']] }] },
  { id: 'cdn-list-own-field-after-304', group: g, kind: 'optimal', name: 'the stored Larder-Cache-Control still applies after a 304 that does not repeat it', steps: [
    // max-age=2: stale after the pause, and fresh for 2 s after the 304 (1 s was too short on a loaded machine)
    { responseHeaders: [cc('no-store'), L('max-age=2'), ['ETag', '"l"']] },
    { pause: PAUSE, status: 304, responseHeaders: [['ETag', '"l"']], expect: 'etag_validated', expectHeadersMissing: ['Larder-Cache-Control'] },
    { expect: 'cached', expectHeadersMissing: ['Larder-Cache-Control'] }] },
];
