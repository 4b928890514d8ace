/**
 * Stored partial content, written from RFC 9111 §3.3 ("Storing Incomplete Responses") and §3.4 ("Combining
 * Partial Content"), with RFC 9110 §14 (ranges) and §13.1.5 (If-Range):
 * - §3.3: a cache MAY store a 206 (recording that it is partial) and use it for a range request it covers;
 *   a request for bytes it does not hold goes to the origin; it is never served as a complete response;
 * - §3.4: parts whose validators match by strong comparison (strong ETag, or with no ETag the same strong
 *   Last-Modified) MAY be combined into a complete response; parts of different or weak validators MUST NOT;
 * - a cache that holds the first bytes asks the origin only for the rest (`Range: bytes=N-`, If-Range).
 * Cache-Status (RFC 9211 §2): `hit` when served from stored parts, `fwd=partial` when combined with fetched bytes.
 */
import type { Case, HeaderList } from '../types.js';
import { cc } from './util.js';

const g = 'partial';
const FRESH: HeaderList = [cc('max-age=3600'), ['Content-Type', 'text/plain']];
const WHOLE = '0123456789abcdef';
const part = (first: number, last: number, validator: HeaderList = [['ETag', '"abc"']]): { status: number; responseHeaders: HeaderList; body: string } => ({
  status: 206, responseHeaders: [...FRESH, ...validator, ['Content-Range', `bytes ${first}-${last}/16`]], body: WHOLE.slice(first, last + 1),
});
const ranged = (v: string): HeaderList => [['Range', v]];

export const partialContentCases: Case[] = [
  { id: 'partial-store-partial-reuse-subrange', group: g, kind: 'optimal', name: 'a stored 206 serves a range inside it (§3.3), Cache-Status hit', steps: [
    { requestHeaders: ranged('bytes=0-9'), ...part(0, 9) },
    { requestHeaders: ranged('bytes=2-5'), expect: 'cached', expectStatus: 206, expectBody: '2345', expectHeaders: [['Content-Range', 'bytes 2-5/16'], ['Cache-Status', /; hit/]] }] },
  { id: 'partial-store-partial-reuse-suffix', group: g, kind: 'optimal', name: 'a stored 206 serves a suffix range it covers (RFC 9110 §14.1.2)', steps: [
    { requestHeaders: ranged('bytes=-10'), ...part(6, 15) },
    { requestHeaders: ranged('bytes=-4'), expect: 'cached', expectStatus: 206, expectBody: 'cdef', expectHeaders: [['Content-Range', 'bytes 12-15/16']] }] },
  { id: 'partial-store-partial-reuse-open-end', group: g, kind: 'optimal', name: 'a stored 206 to the end serves an open-ended range in it', steps: [
    { requestHeaders: ranged('bytes=4-'), ...part(4, 15) },
    { requestHeaders: ranged('bytes=10-'), expect: 'cached', expectStatus: 206, expectBody: 'abcdef', expectHeaders: [['Content-Range', 'bytes 10-15/16']] }] },
  { id: 'partial-store-partial-absent-range', group: g, kind: 'required', name: 'a range the stored part does not hold goes to the origin (§3.3)', steps: [
    { requestHeaders: ranged('bytes=0-4'), ...part(0, 4) },
    { requestHeaders: ranged('bytes=10-12'), ...part(10, 12), expect: 'not_cached', expectStatus: 206, expectBody: 'abc',
      expectRequestHeaders: [['Range', 'bytes=10-12']], expectHeaders: [['Content-Range', 'bytes 10-12/16']] }] },
  { id: 'partial-store-partial-not-whole', group: g, kind: 'required', name: 'a stored part does not answer a request of the whole it cannot complete (§3.3)', steps: [
    { requestHeaders: ranged('bytes=8-15'), ...part(8, 15) },
    { status: 200, responseHeaders: [...FRESH, ['ETag', '"abc"']], body: WHOLE, expect: 'not_cached', expectStatus: 200, expectBody: WHOLE, expectRequestHeadersMissing: ['Range'] }] },
  { id: 'partial-store-partial-reuse-adjoining', group: g, kind: 'optimal', name: 'adjoining stored parts together serve a range neither holds alone (§3.3)', steps: [
    { requestHeaders: ranged('bytes=5-9'), ...part(5, 9) },
    { requestHeaders: ranged('bytes=0-4'), ...part(0, 4), expect: 'not_cached', expectBody: '01234' },
    { requestHeaders: ranged('bytes=3-7'), expect: 'cached', expectStatus: 206, expectBody: '34567', expectHeaders: [['Content-Range', 'bytes 3-7/16'], ['Cache-Status', /; hit/]] }] },
  { id: 'partial-combine-stored-parts', group: g, kind: 'optimal', name: 'parts with the same strong ETag that add up to the whole serve a complete 200 (§3.4)', steps: [
    { requestHeaders: ranged('bytes=8-15'), ...part(8, 15) },
    { requestHeaders: ranged('bytes=0-7'), ...part(0, 7), expect: 'not_cached', expectStatus: 206, expectBody: '01234567' },
    { expect: 'cached', expectStatus: 200, expectBody: WHOLE, expectHeadersMissing: ['Content-Range'], expectHeaders: [['Content-Length', '16'], ['Cache-Status', /; hit/]] },
    { requestHeaders: ranged('bytes=6-9'), expect: 'cached', expectStatus: 206, expectBody: '6789' }] },
  { id: 'partial-combine-fetch-rest', group: g, kind: 'optimal', name: 'with the first bytes stored, only the rest is asked of the origin, with If-Range (§3.4)', steps: [
    { requestHeaders: ranged('bytes=0-7'), ...part(0, 7) },
    { ...part(8, 15), expect: 'not_cached', expectStatus: 200, expectBody: WHOLE,
      expectRequestHeaders: [['Range', 'bytes=8-'], ['If-Range', '"abc"']], expectHeaders: [['Cache-Status', /fwd=partial/]] },
    { expect: 'cached', expectStatus: 200, expectBody: WHOLE }] },
  { id: 'partial-combine-fetch-rest-range', group: g, kind: 'optimal', name: 'a range beyond the stored bytes is completed from the origin and served (§3.4)', steps: [
    { requestHeaders: ranged('bytes=0-9'), ...part(0, 9) },
    { requestHeaders: ranged('bytes=5-12'), ...part(10, 15), expect: 'not_cached', expectStatus: 206, expectBody: '56789abc',
      expectRequestHeaders: [['Range', 'bytes=10-']], expectHeaders: [['Content-Range', 'bytes 5-12/16'], ['Cache-Status', /fwd=partial/]] },
    { expect: 'cached', expectStatus: 200, expectBody: WHOLE }] },
  { id: 'partial-combine-last-modified', group: g, kind: 'optimal', name: 'parts without ETag combine on the same strong Last-Modified, If-Range is that date (§3.4)', steps: [
    { requestHeaders: ranged('bytes=0-7'), ...part(0, 7, [['Last-Modified', { ago: 3600 }]]) },
    { ...part(8, 15, [['Last-Modified', { ago: 3600 }]]), expect: 'not_cached', expectStatus: 200, expectBody: WHOLE,
      expectRequestHeaders: [['Range', 'bytes=8-'], ['If-Range', /GMT$/]] },
    { expect: 'cached', expectStatus: 200, expectBody: WHOLE }] },
  { id: 'partial-combine-different-etag', group: g, kind: 'required', name: 'parts of different ETags are not combined (§3.4)', steps: [
    { requestHeaders: ranged('bytes=8-15'), ...part(8, 15, [['ETag', '"one"']]) },
    { requestHeaders: ranged('bytes=0-7'), ...part(0, 7, [['ETag', '"two"']]), expect: 'not_cached' },
    { status: 200, responseHeaders: [...FRESH, ['ETag', '"two"']], body: 'whole-#2', expect: 'not_cached', expectStatus: 200, expectBody: 'whole-#2' }] },
  { id: 'partial-combine-weak-etag', group: g, kind: 'required', name: 'parts with a weak ETag are not combined (§3.4: strong comparison)', steps: [
    { requestHeaders: ranged('bytes=8-15'), ...part(8, 15, [['ETag', 'W/"w"']]) },
    { requestHeaders: ranged('bytes=0-7'), ...part(0, 7, [['ETag', 'W/"w"']]), expect: 'not_cached' },
    { status: 200, responseHeaders: [...FRESH, ['ETag', 'W/"w"']], body: 'whole-#2', expect: 'not_cached', expectStatus: 200, expectBody: 'whole-#2', expectRequestHeadersMissing: ['Range'] }] },
  { id: 'partial-fetch-rest-changed', group: g, kind: 'required', name: 'when If-Range fails the origin\'s 200 is served and replaces the parts', steps: [
    { requestHeaders: ranged('bytes=0-7'), ...part(0, 7) },
    { status: 200, responseHeaders: [...FRESH, ['ETag', '"new"']], body: 'NEW-whole', expect: 'not_cached', expectStatus: 200, expectBody: 'NEW-whole' },
    { expect: 'cached', expectStatus: 200, expectBody: 'NEW-whole' }] },
  { id: 'partial-store-partial-vary', group: g, kind: 'required', name: 'a stored part is used only for requests its Vary selects (RFC 9111 §4.1)', steps: [
    { requestHeaders: [...ranged('bytes=0-9'), ['Accept-Language', 'en']], ...part(0, 9), responseHeaders: [...part(0, 9).responseHeaders, ['Vary', 'Accept-Language']] },
    { requestHeaders: [...ranged('bytes=0-3'), ['Accept-Language', 'en']], expect: 'cached', expectStatus: 206, expectBody: '0123' },
    { requestHeaders: [...ranged('bytes=0-3'), ['Accept-Language', 'de']], status: 206, responseHeaders: [...part(0, 3).responseHeaders, ['Vary', 'Accept-Language']], body: 'DE03', expect: 'not_cached', expectBody: 'DE03' }] },
  { id: 'partial-store-partial-if-range-mismatch', group: g, kind: 'required', name: 'an If-Range the stored part does not match goes to the origin (RFC 9110 §13.1.5)', steps: [
    { requestHeaders: ranged('bytes=0-9'), ...part(0, 9) },
    { requestHeaders: [...ranged('bytes=0-4'), ['If-Range', '"other"']], status: 200, responseHeaders: [...FRESH, ['ETag', '"other"']], body: WHOLE, expect: 'not_cached', expectStatus: 200 }] },
];
