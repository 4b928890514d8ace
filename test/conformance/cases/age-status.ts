/** Age parsing (RFC 9111 §5.1), status codes with explicit and heuristic freshness (RFC 9111 §3, §4.2.2; RFC 9110 §15.1). */
import type { Case } from '../types.js';
import { cc, reuse, PAUSE } from './util.js';

const a = 'age-parse';
export const ageCases: Case[] = [
  reuse(a, 'required', 'age-parse-large', 'must consider a large Age (7200 > max-age=3600)', [cc('max-age=3600'), ['Age', '7200']], 'not_cached'),
  reuse(a, 'required', 'age-parse-larger', 'must consider Age: 2147483648', [cc('max-age=3600'), ['Age', '2147483648']], 'not_cached'),
  reuse(a, 'required', 'age-parse-largest', 'must consider Age: 99999999999 (overflow is stale, not 0)', [cc('max-age=3600'), ['Age', '99999999999']], 'not_cached'),
  reuse(a, 'optimal', 'age-parse-negative', 'ignores a negative Age', [cc('max-age=3600'), ['Age', '-7200']], 'cached'),
  reuse(a, 'optimal', 'age-parse-float', 'ignores a fractional Age', [cc('max-age=3600'), ['Age', '7200.0']], 'cached'),
  reuse(a, 'optimal', 'age-parse-nonnumeric', 'ignores a non-numeric Age', [cc('max-age=3600'), ['Age', 'abc']], 'cached'),
  reuse(a, 'optimal', 'age-parse-dup-0', 'uses the first of "Age: 0, 7200"', [cc('max-age=3600'), ['Age', '0, 7200']], 'cached'),
  reuse(a, 'optimal', 'age-parse-dup-old', 'uses the first of "Age: 7200, 0"', [cc('max-age=3600'), ['Age', '7200, 0']], 'not_cached'),
  reuse(a, 'optimal', 'age-parse-dup-0-twoline', 'uses the first of two Age lines (0, 7200)', [cc('max-age=3600'), ['Age', '0'], ['Age', '7200']], 'cached'),
  reuse(a, 'optimal', 'age-parse-dup-old-twoline', 'uses the first of two Age lines (7200, 0)', [cc('max-age=3600'), ['Age', '7200'], ['Age', '0']], 'not_cached'),
  reuse('age', 'required', 'other-age-gen', 'must send Age on a response served from cache', [cc('max-age=3600')], 'cached', 0, { expectHeaders: [['Age', /^\d+$/]] }),
  reuse('age', 'optimal', 'other-age-update-max-age', 'the Age sent includes the upstream Age', [cc('max-age=3600'), ['Age', '30']], 'cached', 0, { expectHeaders: [['Age', /^(3\d|[4-9]\d)$/]] }),
  reuse('age', 'optimal', 'other-age-resident', 'the Age sent includes the time the response was stored', [cc('max-age=3600')], 'cached', PAUSE, { expectHeaders: [['Age', /^[2-9]$/]] }),
  reuse('age', 'optimal', 'other-age-delay', 'an old Date raises the Age (apparent age)', [cc('max-age=3600'), ['Date', { fromNow: -600 }]], 'cached', 0, { expectHeaders: [['Age', /^(6\d\d)$/]] }),
];

const s = 'status';
const FRESH_STATUSES = [200, 203, 204, 299, 301, 302, 303, 307, 308, 400, 404, 410, 499, 500, 502, 503, 504, 599];
const STALE_STATUSES = [200, 301, 404, 500, 599];
const HEURISTIC_YES = [200, 203, 204, 404, 405, 410, 414, 501];
const HEURISTIC_NO = [201, 202, 206, 299, 302, 303, 307, 400, 403, 500, 502, 503, 504, 599];

export const statusCases: Case[] = [
  ...FRESH_STATUSES.map((code): Case => ({
    id: `status-${code}-fresh`, group: s, kind: 'optimal', name: `reuses a fresh ${code} response with explicit freshness`,
    steps: [{ status: code, responseHeaders: [cc('max-age=3600')], ...(code === 204 ? { body: null } : {}) },
      { expect: 'cached', expectStatus: code }],
  })),
  ...STALE_STATUSES.map((code): Case => ({
    id: `status-${code}-stale`, group: s, kind: 'required', name: `must not reuse a stale ${code} response`,
    steps: [{ status: code, responseHeaders: [cc('max-age=1')] }, { expect: 'not_cached', pause: PAUSE }],
  })),
  ...HEURISTIC_YES.map((code): Case => ({
    id: `heuristic-${code}-cached`, group: 'heuristic', kind: 'optimal', name: `reuses a heuristically cacheable ${code} with Last-Modified`,
    steps: [{ status: code, responseHeaders: [['Last-Modified', { ago: 100000 }]], ...(code === 204 ? { body: null } : {}) },
      { expect: 'cached', expectStatus: code }],
  })),
  ...HEURISTIC_NO.map((code): Case => ({
    id: `heuristic-${code}-not_cached`, group: 'heuristic', kind: 'required', name: `must not heuristically reuse a ${code}`,
    steps: [{ status: code, responseHeaders: [['Last-Modified', { ago: 100000 }], ...(code === 206 ? [['Content-Range', 'bytes 0-4/10'] as [string, string]] : [])], ...(code === 206 ? { body: '01234' } : {}) },
      { expect: 'not_cached' }],
  })),
  reuse('heuristic', 'optimal', 'heuristic-delta-10', 'heuristic freshness about 10% of the time since Last-Modified (1 h → 6 min)', [['Last-Modified', { ago: 3600 }]], 'cached', 0, { expectHeaders: [['Cache-Status', /ttl=(3[0-5]\d|360)$/]] }),
  reuse('heuristic', 'required', 'heuristic-future-lm', 'a Last-Modified in the future gives no heuristic freshness', [['Last-Modified', { ago: -36000 }]], 'not_cached'),
];
