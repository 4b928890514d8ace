/**
 * HTTP-date parsing and formatting.
 * https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7
 *
 * Recipients accept the three historical formats (IMF-fixdate, obsolete RFC 850, ANSI C asctime);
 * anything else is invalid. Day names, month names and "GMT" are case-sensitive in the grammar, so a
 * wrong-case date is invalid by default. `{ lenient: true }` (used for Expires) accepts them in any case:
 * "Recipients of timestamp values are encouraged to be robust in parsing timestamps unless otherwise
 * restricted by the field definition" (§5.6.7), and an origin that sends "fri, 01 JAN 2100 00:00:00 gmt"
 * means that date, not "already expired".
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

const DAY = '(Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

// IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT   e.g. "Sun, 06 Nov 1994 08:49:37 GMT"
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
// rfc850-date  = day-name-l "," SP date2 SP time-of-day SP GMT  e.g. "Sunday, 06-Nov-94 08:49:37 GMT"
const RFC850_DATE = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
// asctime-date = day-name SP date3 SP time-of-day SP year       e.g. "Sun Nov  6 08:49:37 1994"
const ASCTIME_DATE = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);
const LENIENT = [IMF_FIXDATE, RFC850_DATE, ASCTIME_DATE].map((r) => new RegExp(r.source, 'i'));

/** "jAN" → "Jan" */
const capitalise = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase();

function build(year: number, month: string, day: number, h: string, m: string, s: string): number | undefined {
  const mon = MONTHS.indexOf(month as (typeof MONTHS)[number]);
  const hour = Number(h);
  const minute = Number(m);
  const second = Number(s);
  // second = 60 is allowed by the grammar for leap seconds; Date.UTC rolls it into the next minute
  if (mon < 0 || day < 1 || hour > 23 || minute > 59 || second > 60) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999
  const d = new Date(0);
  d.setUTCFullYear(year, mon, day);
  if (d.getUTCMonth() !== mon) return undefined; // day beyond the end of the month (e.g. 30 Feb)
  d.setUTCHours(hour, minute, second, 0);
  const ms = d.getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Parses an HTTP-date into milliseconds since the epoch; undefined when absent or invalid.
 * Leading/trailing whitespace is tolerated (it is not part of the field value).
 */
export function parseHttpDate(v: string | undefined, opts: { lenient?: boolean } = {}): number | undefined {
  if (v === undefined) return undefined;
  const s = v.trim();
  if (s.length < 24 || s.length > 40) return undefined;
  const [imf, rfc850, asctime] = opts.lenient ? LENIENT : [IMF_FIXDATE, RFC850_DATE, ASCTIME_DATE];
  let m = imf!.exec(s);
  if (m) return build(Number(m[4]), capitalise(m[3]!), Number(m[2]), m[5]!, m[6]!, m[7]!);
  m = rfc850!.exec(s);
  if (m) {
    // https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7: a two-digit year that appears more than 50 years
    // in the future is the most recent past year with the same last two digits.
    const yy = Number(m[4]);
    const thisYear = new Date().getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + yy;
    if (year > thisYear + 50) year -= 100;
    return build(year, capitalise(m[3]!), Number(m[2]), m[5]!, m[6]!, m[7]!);
  }
  m = asctime!.exec(s);
  if (m) {
    return build(Number(m[7]), capitalise(m[2]!), Number(m[3]!.trim()), m[4]!, m[5]!, m[6]!);
  }
  return undefined;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Formats ms since the epoch as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
export function formatHttpDate(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCFullYear(), 4)} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`;
}
