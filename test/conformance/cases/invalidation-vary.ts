/** Invalidation after unsafe methods (RFC 9111 §4.4) and Vary (§4.1). */
import type { Case, HeaderList, Step } from '../types.js';
import { cc } from './util.js';

const i = 'invalidation';
const FRESH: HeaderList = [cc('max-age=3600')];

function invalidate(method: string): Case[] {
  return [
    { id: `invalidate-${method}`, group: i, kind: 'required', name: `${method} invalidates the stored response for its URL`, steps: [
      { responseHeaders: FRESH }, { expect: 'cached' },
      { method, requestBody: 'x', responseHeaders: [] },
      { responseHeaders: FRESH, expect: 'not_cached' }] },
    { id: `invalidate-${method}-location`, group: i, kind: 'optimal', name: `${method} invalidates the same-origin Location`, steps: [
      { path: '/other', responseHeaders: FRESH }, { path: '/other', expect: 'cached' },
      { method, requestBody: 'x', responseHeaders: [['Location', '{base}/other']] },
      { path: '/other', responseHeaders: FRESH, expect: 'not_cached' }] },
    { id: `invalidate-${method}-cl`, group: i, kind: 'optimal', name: `${method} invalidates the same-origin Content-Location`, steps: [
      { path: '/other', responseHeaders: FRESH }, { path: '/other', expect: 'cached' },
      { method, requestBody: 'x', responseHeaders: [['Content-Location', '{base}/other']] },
      { path: '/other', responseHeaders: FRESH, expect: 'not_cached' }] },
    { id: `invalidate-${method}-failed`, group: i, kind: 'optimal', name: `${method} answered with an error does not invalidate`, steps: [
      { responseHeaders: FRESH }, { expect: 'cached' },
      { method, requestBody: 'x', status: 500, responseHeaders: [] },
      { expect: 'cached' }] },
  ];
}

export const invalidationCases: Case[] = [
  ...['POST', 'PUT', 'DELETE', 'M-SEARCH'].flatMap(invalidate),
  { id: 'invalidate-POST-location-cross-origin', group: i, kind: 'required', name: 'a cross-origin Location is not invalidated (only the target is)', steps: [
    { path: '/other', responseHeaders: FRESH }, { path: '/other', expect: 'cached' },
    { method: 'POST', requestBody: 'x', responseHeaders: [['Location', 'http://elsewhere.invalid{base}/other']] },
    { path: '/other', expect: 'cached' }] },
  { id: 'invalidate-GET-no', group: i, kind: 'required', name: 'a safe method does not invalidate', steps: [
    { responseHeaders: FRESH }, { method: 'OPTIONS', responseHeaders: [] }, { expect: 'cached' }] },
];

const v = 'vary';
function vary(id: string, kind: Case['kind'], name: string, varyHeaders: HeaderList, first: HeaderList, second: HeaderList, expect: Step['expect']): Case {
  return { id, group: v, kind, name, steps: [
    { requestHeaders: first, responseHeaders: [...FRESH, ...varyHeaders] },
    { requestHeaders: second, expect }] };
}
const VF: HeaderList = [['Vary', 'Foo']];
const V2: HeaderList = [['Vary', 'Foo, Bar']];
const V3: HeaderList = [['Vary', 'Foo, Bar, Baz']];

export const varyCases: Case[] = [
  vary('vary-match', 'optimal', 'reuses a Vary response when the request header matches', VF, [['Foo', '1']], [['Foo', '1']], 'cached'),
  vary('vary-no-match', 'required', 'must not reuse when the Vary header differs', VF, [['Foo', '1']], [['Foo', '2']], 'not_cached'),
  vary('vary-omit-stored', 'required', 'must not reuse when the request omits a header the stored request had', VF, [['Foo', '1']], [], 'not_cached'),
  vary('vary-omit', 'required', 'must not reuse when the stored request omitted a header the request has', VF, [], [['Foo', '1']], 'not_cached'),
  vary('vary-both-absent', 'optimal', 'reuses when both requests omit the Vary header', VF, [], [], 'cached'),
  vary('vary-empty-value', 'required', 'an empty value differs from an absent header', VF, [['Foo', '']], [], 'not_cached'),
  vary('vary-2-match', 'optimal', 'two Vary headers matching', V2, [['Foo', '1'], ['Bar', 'abc']], [['Foo', '1'], ['Bar', 'abc']], 'cached'),
  vary('vary-2-no-match', 'required', 'two Vary headers, the second differs', V2, [['Foo', '1'], ['Bar', 'abc']], [['Foo', '1'], ['Bar', 'abcd']], 'not_cached'),
  vary('vary-2-match-omit', 'optimal', 'two Vary headers, both omitted both times', V2, [], [], 'cached'),
  vary('vary-3-match', 'optimal', 'three Vary headers matching', V3, [['Foo', '1'], ['Bar', 'abc'], ['Baz', 'x']], [['Foo', '1'], ['Bar', 'abc'], ['Baz', 'x']], 'cached'),
  vary('vary-3-no-match', 'required', 'three Vary headers, the third differs', V3, [['Foo', '1'], ['Bar', 'abc'], ['Baz', 'x']], [['Foo', '1'], ['Bar', 'abc'], ['Baz', 'y']], 'not_cached'),
  vary('vary-3-order', 'optimal', 'request header order does not matter', V3, [['Foo', '1'], ['Bar', 'abc'], ['Baz', 'x']], [['Baz', 'x'], ['Bar', 'abc'], ['Foo', '1']], 'cached'),
  vary('vary-3-omit', 'optimal', 'three Vary headers, one omitted both times', V3, [['Foo', '1'], ['Baz', 'x']], [['Foo', '1'], ['Baz', 'x']], 'cached'),
  vary('vary-2-lines', 'required', 'Vary on two lines is a list', [['Vary', 'Foo'], ['Vary', 'Bar']], [['Foo', '1'], ['Bar', 'abc']], [['Foo', '1'], ['Bar', 'abcd']], 'not_cached'),
  vary('vary-star', 'required', 'must not reuse a Vary: * response', [['Vary', '*']], [['Foo', '1']], [['Foo', '1']], 'not_cached'),
  vary('vary-syntax-foo-star', 'required', 'Vary: Foo, * never matches', [['Vary', 'Foo, *']], [['Foo', '1']], [['Foo', '1']], 'not_cached'),
  vary('vary-syntax-empty-star', 'required', 'Vary: , * never matches', [['Vary', ', *']], [], [], 'not_cached'),
  vary('vary-syntax-star-lines', 'required', 'Vary: Foo and Vary: * on two lines never matches', [['Vary', 'Foo'], ['Vary', '*']], [['Foo', '1']], [['Foo', '1']], 'not_cached'),
  vary('vary-normalise-case', 'optimal', 'Vary field names are case-insensitive', [['Vary', 'fOO']], [['Foo', '1']], [['Foo', '1']], 'cached'),
  vary('vary-normalise-combine', 'optimal', 'two request lines match their combined value', VF, [['Foo', '1, 2']], [['Foo', '1'], ['Foo', '2']], 'cached'),
  vary('vary-normalise-space', 'optimal', 'whitespace after the comma does not matter', VF, [['Foo', '1,2']], [['Foo', '1, 2']], 'cached'),
  vary('vary-normalise-lang-case', 'optimal', 'Accept-Language compares case-insensitively', [['Vary', 'Accept-Language']], [['Accept-Language', 'en-US']], [['Accept-Language', 'en-us']], 'cached'),
  // RFC 9111 §4.1: "reordering field values when order is not significant; case-normalization, where values
  // are defined to be case-insensitive"; Accept-Language order carries no meaning, weights do (RFC 9110 §12.4.2)
  vary('vary-normalise-lang-order', 'optimal', 'Accept-Language member order does not matter', [['Vary', 'Accept-Language']], [['Accept-Language', 'en-US, fr;q=0.5']], [['Accept-Language', 'fr;q=0.5, en-US']], 'cached'),
  vary('vary-normalise-lang-order-case', 'optimal', 'Accept-Language order and case together', [['Vary', 'Accept-Language']], [['Accept-Language', 'en-US, de, fr']], [['Accept-Language', 'FR,DE,EN-us']], 'cached'),
  vary('vary-normalise-lang-weights', 'required', 'Accept-Language with other weights is another variant', [['Vary', 'Accept-Language']], [['Accept-Language', 'en;q=0.5, fr']], [['Accept-Language', 'en, fr;q=0.5']], 'not_cached'),
  vary('vary-normalise-lang-tag', 'required', 'another language tag is another variant', [['Vary', 'Accept-Language']], [['Accept-Language', 'en']], [['Accept-Language', 'en-GB']], 'not_cached'),
  vary('vary-normalise-encoding-case', 'optimal', 'Accept-Encoding compares case-insensitively', [['Vary', 'Accept-Encoding']], [['Accept-Encoding', 'GZIP, BR']], [['Accept-Encoding', 'br, gzip']], 'cached'),
  vary('vary-normalise-encoding-order', 'optimal', 'Accept-Encoding member order does not matter', [['Vary', 'Accept-Encoding']], [['Accept-Encoding', 'gzip, br']], [['Accept-Encoding', 'br, gzip']], 'cached'),
  { id: 'vary-cache-key', group: v, kind: 'optimal', name: 'keeps several variants at once', steps: [
    { requestHeaders: [['Foo', '1']], responseHeaders: [...FRESH, ...VF] },
    { requestHeaders: [['Foo', '2']], expect: 'not_cached' },
    { requestHeaders: [['Foo', '1']], expect: 'cached' },
    { requestHeaders: [['Foo', '2']], expect: 'cached' }] },
  { id: 'vary-invalidate', group: v, kind: 'required', name: 'an unsafe request invalidates every variant', steps: [
    { requestHeaders: [['Foo', '1']], responseHeaders: [...FRESH, ...VF] },
    { requestHeaders: [['Foo', '2']], expect: 'not_cached' },
    { method: 'POST', requestBody: 'x', responseHeaders: [] },
    { requestHeaders: [['Foo', '1']], responseHeaders: [...FRESH, ...VF], expect: 'not_cached' },
    { requestHeaders: [['Foo', '2']], expect: 'not_cached' }] },
];
