/** Freshness: max-age, s-maxage, Expires, Date, Age (RFC 9111 §4.2, §5.1, §5.2.2.1, §5.2.2.10, §5.3). */
import type { Case } from '../types.js';
import { cc, reuse, twoStep, PAUSE } from './util.js';

const g = 'freshness';
export const freshnessCases: Case[] = [
  reuse(g, 'required', 'freshness-none', 'must not reuse a response without freshness information or a validator', [], 'not_cached'),
  reuse(g, 'optimal', 'freshness-max-age', 'reuses a response with positive max-age', [cc('max-age=3600')], 'cached'),
  reuse(g, 'required', 'freshness-max-age-0', 'must not reuse a response with max-age=0', [cc('max-age=0')], 'not_cached'),
  reuse(g, 'required', 'freshness-max-age-stale', 'must not reuse a response once max-age has passed', [cc('max-age=1')], 'not_cached', PAUSE),
  reuse(g, 'required', 'freshness-max-age-age', 'must not reuse a response whose Age exceeds max-age', [cc('max-age=3600'), ['Age', '12000']], 'not_cached'),
  reuse(g, 'optimal', 'freshness-max-age-date', 'reuses a max-age response with an old Date (max-age counts from receipt)', [cc('max-age=3600'), ['Date', { fromNow: -10 }]], 'cached'),
  reuse(g, 'required', 'freshness-max-age-negative', 'must not reuse max-age=-1', [cc('max-age=-1')], 'not_cached'),
  reuse(g, 'optimal', 'freshness-max-age-max', 'reuses max-age=2147483648', [cc('max-age=2147483648')], 'cached'),
  reuse(g, 'optimal', 'freshness-max-age-max-plus-1', 'reuses max-age=2147483649', [cc('max-age=2147483649')], 'cached'),
  reuse(g, 'optimal', 'freshness-max-age-max-plus', 'reuses max-age=99999999999', [cc('max-age=99999999999')], 'cached'),
  reuse(g, 'required', 'freshness-max-age-a100', 'must not reuse max-age=a100', [cc('max-age=a100')], 'not_cached'),
  reuse(g, 'required', 'freshness-max-age-100a', 'must not reuse max-age=100a', [cc('max-age=100a')], 'not_cached'),
  reuse(g, 'optimal', 'freshness-max-age-ignore-expires', 'max-age wins over an Expires in the past', [cc('max-age=3600'), ['Expires', { fromNow: -3600 }]], 'cached'),
  reuse(g, 'required', 'freshness-max-age-expires', 'max-age wins over an Expires in the future', [cc('max-age=1'), ['Expires', { fromNow: 3600 }]], 'not_cached', PAUSE),
  reuse(g, 'optimal', 'freshness-max-age-expires-invalid', 'max-age wins over an invalid Expires', [cc('max-age=3600'), ['Expires', '0']], 'cached'),
  reuse(g, 'optimal', 'freshness-s-maxage-shared', 'a shared cache reuses a response with s-maxage', [cc('s-maxage=3600')], 'cached'),
  reuse(g, 'optimal', 'freshness-max-age-s-maxage-shared-longer', 'a shared cache uses s-maxage over a shorter max-age', [cc('max-age=1, s-maxage=3600')], 'cached', PAUSE),
  reuse(g, 'optimal', 'freshness-max-age-s-maxage-shared-longer-reversed', 's-maxage before max-age', [cc('s-maxage=3600, max-age=1')], 'cached', PAUSE),
  reuse(g, 'optimal', 'freshness-max-age-s-maxage-shared-longer-multiple', 's-maxage and max-age on separate lines', [cc('max-age=1'), cc('s-maxage=3600')], 'cached', PAUSE),
  reuse(g, 'required', 'freshness-max-age-s-maxage-shared-shorter', 'a shared cache must not reuse past s-maxage even if max-age is longer', [cc('max-age=3600, s-maxage=1')], 'not_cached', PAUSE),
  reuse(g, 'required', 'freshness-max-age-s-maxage-shared-shorter-expires', 's-maxage wins over a future Expires', [cc('s-maxage=1'), ['Expires', { fromNow: 3600 }]], 'not_cached', PAUSE),

  // Expires (RFC 9111 §5.3) and its parsing (RFC 9110 §5.6.7)
  reuse(g, 'optimal', 'freshness-expires-future', 'reuses a response with Expires in the future', [['Expires', { fromNow: 3600 }]], 'cached'),
  reuse(g, 'required', 'freshness-expires-past', 'must not reuse a response with Expires in the past', [['Expires', { fromNow: -3600 }]], 'not_cached'),
  reuse(g, 'required', 'freshness-expires-present', 'must not reuse a response with Expires equal to Date', [['Date', { fromNow: 0 }], ['Expires', { fromNow: 0 }]], 'not_cached'),
  reuse(g, 'optimal', 'freshness-expires-old-date', 'Expires is relative to Date: old Date, Expires far ahead', [['Date', { fromNow: -3600 }], ['Expires', { fromNow: 7200 }]], 'cached'),
  reuse(g, 'required', 'freshness-expires-age-stale', 'a large Age makes an Expires-fresh response stale', [['Date', { fromNow: 0 }], ['Expires', { fromNow: 600 }], ['Age', '3600']], 'not_cached'),
  reuse(g, 'required', 'freshness-expires-invalid', 'must treat Expires: 0 as already expired', [['Expires', '0']], 'not_cached'),
  reuse(g, 'required', 'freshness-expires-invalid-garbage', 'must treat an unparseable Expires as already expired', [['Expires', 'next tuesday']], 'not_cached'),
  reuse(g, 'optimal', 'freshness-expires-ansi-c', 'accepts an asctime Expires', [['Expires', { ago: -7200, format: 'asctime' }]], 'cached'),
  reuse(g, 'optimal', 'freshness-expires-rfc850', 'accepts an RFC 850 Expires', [['Expires', { ago: -7200, format: 'rfc850' }]], 'cached'),
  reuse(g, 'optimal', 'freshness-expires-far-future', 'accepts an Expires in 2100', [['Expires', 'Fri, 01 Jan 2100 00:00:00 GMT']], 'cached'),
  // RFC 9110 §5.6.7: "Recipients of timestamp values are encouraged to be robust in parsing timestamps":
  // an Expires with names in the wrong case is understood (an optimal cache does; a strict one expires it)
  reuse(g, 'optimal', 'freshness-expires-wrong-case-weekday', 'understands an Expires with a lower-case weekday', [['Expires', 'fri, 01 Jan 2100 00:00:00 GMT']], 'cached'),
  reuse(g, 'optimal', 'freshness-expires-wrong-case-month', 'understands an Expires with an upper-case month', [['Expires', 'Fri, 01 JAN 2100 00:00:00 GMT']], 'cached'),
  reuse(g, 'optimal', 'freshness-expires-wrong-case-tz', 'understands an Expires with "gmt"', [['Expires', 'Fri, 01 Jan 2100 00:00:00 gmt']], 'cached'),
  reuse(g, 'optimal', 'freshness-expires-wrong-case-all', 'understands an Expires in upper case', [['Expires', 'FRI, 01 JAN 2100 00:00:00 GMT']], 'cached'),
  reuse(g, 'required', 'freshness-expires-wrong-case-past', 'a wrong-case Expires in the past is not fresh', [['Expires', 'thu, 01 jan 1970 00:00:00 gmt']], 'not_cached'),
  reuse(g, 'required', 'freshness-expires-invalid-1-digit-hour', 'must treat an Expires with a one-digit hour as invalid', [['Expires', 'Fri, 01 Jan 2100 0:00:00 GMT']], 'not_cached'),
  reuse(g, 'required', 'freshness-expires-invalid-no-comma', 'must treat an Expires without the comma as invalid', [['Expires', 'Fri 01 Jan 2100 00:00:00 GMT']], 'not_cached'),
  reuse(g, 'required', 'freshness-expires-invalid-utc', 'must treat an Expires in UTC rather than GMT as invalid', [['Expires', 'Fri, 01 Jan 2100 00:00:00 UTC']], 'not_cached'),
  twoStep(g, 'optimal', 'freshness-date-missing', 'reuses a max-age response that has no Date', { responseHeaders: [cc('max-age=3600')], noDate: true }, { expect: 'cached', expectHeaders: [['Date', true]] }),
];
