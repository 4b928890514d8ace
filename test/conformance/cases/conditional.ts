/**
 * Conditional requests: answered from cache (RFC 9110 §13.1, RFC 9111 §4.3.2), forwarded, generated for
 * validation (§4.3.1), and the 304 that freshens a stored response (§4.3.4, §3.2) or a HEAD that does (§4.3.5).
 */
import type { Case, HeaderList } from '../types.js';
import { cc, twoStep, PAUSE } from './util.js';

const c = 'conditional';
const FRESH: [string, string] = cc('max-age=3600');
const LM = { ago: 10000 } as const;

function respond(id: string, kind: Case['kind'], name: string, stored: HeaderList, request: HeaderList, expectStatus: number): Case {
  return twoStep(c, kind, id, name, { responseHeaders: [FRESH, ...stored] }, { requestHeaders: request, expect: 'cached', expectStatus });
}

export const conditionalCases: Case[] = [
  respond('conditional-etag-strong-respond', 'optimal', 'answers a matching If-None-Match with 304 from cache', [['ETag', '"abcdef"']], [['If-None-Match', '"abcdef"']], 304),
  respond('conditional-etag-weak-respond', 'optimal', 'answers a matching weak If-None-Match with 304', [['ETag', 'W/"abcdef"']], [['If-None-Match', 'W/"abcdef"']], 304),
  respond('conditional-etag-weak-respond-strong-inm', 'optimal', 'If-None-Match uses weak comparison ("x" matches W/"x")', [['ETag', 'W/"abcdef"']], [['If-None-Match', '"abcdef"']], 304),
  respond('conditional-etag-strong-respond-multiple-first', 'optimal', 'matches the first tag of a list', [['ETag', '"abcdef"']], [['If-None-Match', '"abcdef", "1234", "5678"']], 304),
  respond('conditional-etag-strong-respond-multiple-second', 'optimal', 'matches the second tag of a list', [['ETag', '"abcdef"']], [['If-None-Match', '"1234", "abcdef", "5678"']], 304),
  respond('conditional-etag-strong-respond-multiple-last', 'optimal', 'matches the last tag of a list', [['ETag', '"abcdef"']], [['If-None-Match', '"1234", "5678", "abcdef"']], 304),
  respond('conditional-etag-star', 'optimal', 'If-None-Match: * matches a stored response', [['ETag', '"abcdef"']], [['If-None-Match', '*']], 304),
  respond('conditional-etag-strong-respond-obs-text', 'optimal', 'matches an ETag with a comma inside the quotes', [['ETag', '"abc,def"']], [['If-None-Match', '"abc,def"']], 304),
  respond('conditional-etag-quoted-respond-unquoted', 'optimal', 'an unquoted If-None-Match does not match a quoted ETag', [['ETag', '"abcdef"']], [['If-None-Match', 'abcdef']], 200),
  respond('conditional-etag-no-match', 'required', 'a non-matching If-None-Match gets the full response', [['ETag', '"abcdef"']], [['If-None-Match', '"xyz"']], 200),
  respond('conditional-etag-precedence', 'required', 'If-None-Match takes precedence over If-Modified-Since', [['ETag', '"abcdef"'], ['Last-Modified', LM]], [['If-None-Match', '"xyz"'], ['If-Modified-Since', { ago: 0 }]], 200),
  respond('conditional-lm-fresh', 'optimal', 'answers If-Modified-Since equal to Last-Modified with 304', [['Last-Modified', LM]], [['If-Modified-Since', LM]], 304),
  respond('conditional-lm-fresh-later', 'optimal', 'answers a later If-Modified-Since with 304', [['Last-Modified', LM]], [['If-Modified-Since', { ago: 5000 }]], 304),
  respond('conditional-lm-fresh-rfc850', 'optimal', 'accepts an RFC 850 If-Modified-Since', [['Last-Modified', LM]], [['If-Modified-Since', { ago: 10000, format: 'rfc850' }]], 304),
  respond('conditional-lm-fresh-no-lm', 'optimal', 'uses Date for If-Modified-Since when there is no Last-Modified', [['Date', { fromNow: -100 }]], [['If-Modified-Since', { fromNow: -50 }]], 304),
  // RFC 9110 §13.1.3: "if the selected representation's last modification date is earlier or equal to the date
  // provided in the field value, ... respond with 304"; RFC 9111 §4.3.2: "If-Modified-Since ... can use the
  // Date of the stored response" when it has no Last-Modified.
  respond('conditional-lm-fresh-no-lm-equal', 'optimal', 'If-Modified-Since equal to the stored Date (no Last-Modified) gets 304', [['Date', { ago: 100 }]], [['If-Modified-Since', { ago: 100 }]], 304),
  respond('conditional-lm-fresh-no-lm-rfc850', 'optimal', 'an RFC 850 If-Modified-Since after the stored Date gets 304', [['Date', { ago: 100 }]], [['If-Modified-Since', { ago: 50, format: 'rfc850' }]], 304),
  respond('conditional-lm-fresh-no-lm-earlier', 'required', 'If-Modified-Since before the stored Date (no Last-Modified) gets the full response', [['Date', { ago: 100 }]], [['If-Modified-Since', { ago: 200 }]], 200),
  twoStep(c, 'optimal', 'conditional-lm-fresh-no-lm-origin-date', 'If-Modified-Since of now, 1 s after the origin\'s own Date, gets 304', { responseHeaders: [FRESH] },
    { pause: 1, requestHeaders: [['If-Modified-Since', { fromNow: 0 }]], expect: 'cached', expectStatus: 304 }),
  twoStep(c, 'optimal', 'conditional-lm-fresh-no-lm-no-date', 'with no Date from the origin, the Date the cache added counts for If-Modified-Since', { responseHeaders: [FRESH], noDate: true },
    { pause: 1, requestHeaders: [['If-Modified-Since', { fromNow: 0 }]], expect: 'cached', expectStatus: 304 }),
  twoStep(c, 'optimal', 'conditional-lm-fresh-no-lm-odd-fields', 'a fresh response without Last-Modified answers If-Modified-Since with 304 despite unknown request directives', { responseHeaders: [FRESH] },
    { pause: 1, requestHeaders: [['If-Modified-Since', { fromNow: 0 }], ['Pragma', 'foo'], ['Cache-Control', 'nothing-to-see-here']], expect: 'cached', expectStatus: 304 }),
  respond('conditional-lm-fresh-earlier', 'required', 'an If-Modified-Since before Last-Modified gets the full response', [['Last-Modified', LM]], [['If-Modified-Since', { ago: 20000 }]], 200),
  respond('conditional-lm-invalid', 'required', 'an invalid If-Modified-Since is ignored', [['Last-Modified', LM]], [['If-Modified-Since', 'yesterday']], 200),
  twoStep(c, 'optimal', 'conditional-304-headers', 'a 304 from cache carries ETag and Cache-Control', { responseHeaders: [FRESH, ['ETag', '"abcdef"']] },
    { requestHeaders: [['If-None-Match', '"abcdef"']], expect: 'cached', expectStatus: 304, expectHeaders: [['ETag', '"abcdef"'], ['Cache-Control', 'max-age=3600']] }),

  // forwarding the client's own conditional request when nothing is stored
  { id: 'conditional-etag-forward', group: c, kind: 'required', name: 'forwards a client If-None-Match when nothing is stored', steps: [
    { requestHeaders: [['If-None-Match', '"abcdef"']], responseHeaders: [['ETag', '"abcdef"']], expectRequestHeaders: [['If-None-Match', '"abcdef"']] }] },
  { id: 'conditional-etag-forward-unquoted', group: c, kind: 'optimal', name: 'forwards an unquoted If-None-Match as it is', steps: [
    { requestHeaders: [['If-None-Match', 'abcdef']], responseHeaders: [['ETag', 'abcdef']], expectRequestHeaders: [['If-None-Match', 'abcdef']] }] },
  { id: 'conditional-lm-forward', group: c, kind: 'required', name: 'forwards a client If-Modified-Since when nothing is stored', steps: [
    { requestHeaders: [['If-Modified-Since', LM]], responseHeaders: [['Last-Modified', LM]], expectRequestHeaders: [['If-Modified-Since', true]] }] },
  { id: 'conditional-304-forwarded', group: c, kind: 'required', name: 'passes an origin 304 to a client that asked conditionally', steps: [
    { requestHeaders: [['If-None-Match', '"abcdef"']], responseHeaders: [['ETag', '"abcdef"']], answer304: true, expectStatus: 304 }] },

  // validation the cache generates
  twoStep(c, 'optimal', 'conditional-etag-strong-generate', 'validates a stale response with If-None-Match', { responseHeaders: [cc('max-age=1'), ['ETag', '"abcdef"']] },
    { pause: PAUSE, expect: 'etag_validated', expectStatus: 200, expectRequestHeaders: [['If-None-Match', '"abcdef"']] }),
  twoStep(c, 'optimal', 'conditional-etag-weak-generate-weak', 'validates with the weak ETag as it was received', { responseHeaders: [cc('max-age=1'), ['ETag', 'W/"abcdef"']] },
    { pause: PAUSE, expect: 'etag_validated', expectStatus: 200, expectRequestHeaders: [['If-None-Match', 'W/"abcdef"']] }),
  twoStep(c, 'optimal', 'conditional-lm-stale', 'validates a stale response with If-Modified-Since', { responseHeaders: [cc('max-age=1'), ['Last-Modified', LM]] },
    { pause: PAUSE, expect: 'lm_validated', expectStatus: 200 }),
  twoStep(c, 'optimal', 'conditional-etag-stale-client-304', 'a client conditional on a stale entry gets 304 after the cache validated', { responseHeaders: [cc('max-age=1'), ['ETag', '"abcdef"']] },
    { pause: PAUSE, requestHeaders: [['If-None-Match', '"abcdef"']], expect: 'etag_validated', expectStatus: 304 }),
  twoStep(c, 'required', 'conditional-stale-changed', 'a stale response replaced by a 200 is served new', { responseHeaders: [cc('max-age=1'), ['ETag', '"abcdef"']] },
    { pause: PAUSE, responseHeaders: [cc('max-age=3600'), ['ETag', '"new"']], expect: 'not_cached', expectHeaders: [['ETag', '"new"']] }),
];

const u = 'update304';
function update(id: string, kind: Case['kind'], name: string, storedExtra: HeaderList, notModifiedExtra: HeaderList, check: [string, string | RegExp | true][], missing: string[] = []): Case {
  return {
    id, group: u, kind, name, steps: [
      { responseHeaders: [cc('max-age=1'), ['ETag', '"abcdef"'], ...storedExtra] },
      { pause: PAUSE, responseHeaders: [cc('max-age=3600'), ['ETag', '"abcdef"'], ...notModifiedExtra], expect: 'etag_validated', expectStatus: 200 },
      { expect: 'cached', expectHeaders: check, expectHeadersMissing: missing },
    ],
  };
}

export const update304Cases: Case[] = [
  update('304-etag-update-response-Cache-Control', 'optimal', 'a 304 freshens the stored response (new Cache-Control)', [], [], [['Cache-Control', 'max-age=3600']]),
  update('304-etag-update-response-Test-Header', 'optimal', 'a 304 updates an extension header', [['Test-Header', 'A']], [['Test-Header', 'B']], [['Test-Header', 'B']]),
  update('304-etag-update-response-X-Frame-Options', 'optimal', 'a 304 updates X-Frame-Options', [['X-Frame-Options', 'deny']], [['X-Frame-Options', 'sameorigin']], [['X-Frame-Options', 'sameorigin']]),
  update('304-etag-update-response-Expires', 'optimal', 'a 304 updates Expires', [['Expires', { fromNow: 10 }]], [['Expires', 'Fri, 01 Jan 2100 00:00:00 GMT']], [['Expires', 'Fri, 01 Jan 2100 00:00:00 GMT']]),
  update('304-etag-update-response-Content-Foo', 'optimal', 'a 304 updates Content-Foo', [['Content-Foo', 'A']], [['Content-Foo', 'B']], [['Content-Foo', 'B']]),
  update('304-etag-retain-Test-Header', 'required', 'stored headers absent from the 304 are kept', [['Test-Header', 'A']], [], [['Test-Header', 'A']]),
  update('304-etag-no-update-Content-Length', 'required', 'a 304 does not change the stored Content-Length', [], [['Content-Length', '999']], [['Content-Length', /^\d{1,3}$/]]),
  {
    id: '304-lm-update-response-Test-Header', group: u, kind: 'optimal', name: 'a 304 to If-Modified-Since updates headers', steps: [
      { responseHeaders: [cc('max-age=1'), ['Last-Modified', LM], ['Test-Header', 'A']] },
      { pause: PAUSE, responseHeaders: [cc('max-age=3600'), ['Last-Modified', LM], ['Test-Header', 'B']], expect: 'lm_validated', expectStatus: 200 },
      { expect: 'cached', expectHeaders: [['Test-Header', 'B']] },
    ],
  },
  {
    id: '304-etag-mismatch-not-applied', group: u, kind: 'required', name: 'a 304 with a different strong ETag does not freshen the stored response', steps: [
      { responseHeaders: [cc('max-age=1'), ['ETag', '"abcdef"'], ['Test-Header', 'A']] },
      { pause: PAUSE, status: 304, responseHeaders: [cc('max-age=3600'), ['ETag', '"other"'], ['Test-Header', 'B']], expectHeadersMissing: [] },
      { status: 200, responseHeaders: [cc('max-age=3600'), ['ETag', '"abcdef"'], ['Test-Header', 'C']], expectHeaders: [['Test-Header', /^[AC]$/]] },
    ],
  },
  {
    id: 'head-200-update', group: 'update-head', kind: 'optimal', name: 'a HEAD response freshens the stored GET response (§4.3.5)', steps: [
      { responseHeaders: [cc('max-age=1'), ['ETag', '"abcdef"'], ['Test-Header', 'A']] },
      { pause: PAUSE, method: 'HEAD', responseHeaders: [cc('max-age=3600'), ['ETag', '"abcdef"'], ['Test-Header', 'B']] },
      { expect: 'cached', expectHeaders: [['Test-Header', 'B']] },
    ],
  },
];
