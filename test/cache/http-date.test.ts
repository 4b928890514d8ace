import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatHttpDate, parseHttpDate } from '../../src/cache/http-date.js';

const T = Date.UTC(1994, 10, 6, 8, 49, 37);

test('§5.6.7 IMF-fixdate is parsed', () => {
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), T);
});

test('§5.6.7 obsolete RFC 850 date is parsed (two-digit year)', () => {
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), T);
});

test('§5.6.7 RFC 850 two-digit year more than 50 years ahead is taken as the past century', () => {
  const yy = (new Date().getUTCFullYear() + 60) % 100;
  const parsed = parseHttpDate(`Monday, 01-Jan-${String(yy).padStart(2, '0')} 00:00:00 GMT`);
  assert.ok(parsed !== undefined);
  assert.ok(parsed! < Date.now(), 'interpreted in the past');
});

test('§5.6.7 asctime date is parsed, with a space-padded day', () => {
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), T);
  assert.equal(parseHttpDate('Sun Nov 06 08:49:37 1994'), T);
});

test('§5.6.7 surrounding whitespace is tolerated', () => {
  assert.equal(parseHttpDate('  Sun, 06 Nov 1994 08:49:37 GMT '), T);
});

test('§5.6.7 invalid dates are rejected', () => {
  for (const bad of [
    undefined, '', '0', '-1', 'now', 'Sun, 06 Nov 1994 08:49:37', 'Sun, 06 Nov 1994 08:49:37 UTC',
    'sun, 06 Nov 1994 08:49:37 GMT', 'Sun, 06 nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 gmt',
    'Sun, 32 Jan 1994 08:49:37 GMT', 'Sun, 30 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:00 GMT', 'Sun, 6 Nov 1994 08:49:37 GMT', 'Sun,  06 Nov 1994 08:49:37 GMT',
    '1994-11-06T08:49:37Z', 'Sun, 06 Nov 1994 08:49:37 GMT garbage',
  ]) {
    assert.equal(parseHttpDate(bad), undefined, String(bad));
  }
});

test('§5.6.7 29 February only in leap years', () => {
  assert.notEqual(parseHttpDate('Thu, 29 Feb 2024 00:00:00 GMT'), undefined);
  assert.equal(parseHttpDate('Thu, 29 Feb 2023 00:00:00 GMT'), undefined);
});

test('§5.6.7 dates past 2038 are parsed', () => {
  assert.equal(parseHttpDate('Fri, 01 Jan 2100 00:00:00 GMT'), Date.UTC(2100, 0, 1));
});

test('§5.6.7 four-digit years below 100 are not shifted into the 1900s', () => {
  assert.equal(new Date(parseHttpDate('Mon, 01 Jan 0094 00:00:00 GMT')!).getUTCFullYear(), 94);
});

test('formatHttpDate produces IMF-fixdate and round-trips', () => {
  assert.equal(formatHttpDate(T), 'Sun, 06 Nov 1994 08:49:37 GMT');
  const now = Math.floor(Date.now() / 1000) * 1000;
  assert.equal(parseHttpDate(formatHttpDate(now)), now);
});

// RFC 9110 §5.6.7: "Recipients of timestamp values are encouraged to be robust in parsing timestamps unless
// otherwise restricted by the field definition." The lenient reading (used for Expires) ignores case.
test('§5.6.7 lenient: weekday, month and GMT in any case are understood, in all three formats', () => {
  for (const v of [
    'sun, 06 Nov 1994 08:49:37 GMT', 'Sun, 06 NOV 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 gmt', 'SUN, 06 nov 1994 08:49:37 Gmt',
    'SUNDAY, 06-NOV-94 08:49:37 gmt', 'sun nov  6 08:49:37 1994',
  ]) {
    assert.equal(parseHttpDate(v, { lenient: true }), T, v);
    assert.equal(parseHttpDate(v), undefined, `strict: ${v}`);
  }
});

test('§5.6.7 lenient: what is not a date stays invalid', () => {
  for (const bad of ['0', 'next tuesday', 'Sun, 06 Nov 1994 08:49:37 UTC', 'Sun 06 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 8:49:37 GMT', 'Sun, 06 Nox 1994 08:49:37 GMT']) {
    assert.equal(parseHttpDate(bad, { lenient: true }), undefined, bad);
  }
});
