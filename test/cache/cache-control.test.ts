import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_DELTA_SECONDS, conflictingDirectives, deltaSeconds, fieldNames, firstValue, joinedValue, parseCacheControl, storedToHeaders,
  parseTargetedField, targetedResponse, targetedNames, privateTargetedNames,
} from '../../src/cache/cache-control.js';

test('§5.2 directives are parsed, names lower-cased', () => {
  const d = parseCacheControl('Public, MAX-AGE=60, No-Cache');
  assert.equal(d.get('public'), true);
  assert.equal(d.get('max-age'), '60');
  assert.equal(d.get('no-cache'), true);
});

test('§5.2 quoted-string arguments are unquoted and unescaped', () => {
  const d = parseCacheControl('no-cache="Set-Cookie, X-Foo", max-age="30", private="a\\"b"');
  assert.equal(d.get('no-cache'), 'Set-Cookie, X-Foo');
  assert.equal(d.get('max-age'), '30');
  assert.equal(d.get('private'), 'a"b');
});

test('§5.2 commas inside quoted strings do not split members', () => {
  const d = parseCacheControl('private="a, b", max-age=5');
  assert.equal(d.size, 2);
  assert.equal(d.get('max-age'), '5');
});

test('RFC 9110 §5.6.1 empty members and odd whitespace are tolerated', () => {
  const d = parseCacheControl(' ,, max-age=5 ,\t,public , ');
  assert.deepEqual([...d.keys()], ['max-age', 'public']);
});

test('RFC 9110 §5.3 multiple field lines are combined', () => {
  const d = parseCacheControl(['max-age=5', 'public', 'no-transform']);
  assert.deepEqual([...d.keys()], ['max-age', 'public', 'no-transform']);
});

test('§4.2.1 duplicate directive keeps the first occurrence; conflicting duplicates are reported', () => {
  assert.equal(parseCacheControl('max-age=1, max-age=3600').get('max-age'), '1');
  assert.deepEqual([...conflictingDirectives('max-age=1, max-age=3600')], ['max-age']);
  assert.deepEqual([...conflictingDirectives(['max-age=60', 'max-age=60'])], []);
  assert.deepEqual([...conflictingDirectives('max-age=60, public')], []);
});

test('§5.2 whitespace around "=" makes a numeric argument invalid', () => {
  assert.equal(deltaSeconds(parseCacheControl('max-age =60').get('max-age')), undefined);
  assert.equal(deltaSeconds(parseCacheControl('max-age= 60').get('max-age')), undefined);
});

test('§4.2.1 malformed member naming a restrictive directive is read as that directive', () => {
  assert.equal(parseCacheControl('no-store;').get('no-store'), true);
  assert.equal(parseCacheControl('private"').get('private'), true);
});

test('§5.2 absent field gives no directives', () => {
  assert.equal(parseCacheControl(undefined).size, 0);
  assert.equal(parseCacheControl('').size, 0);
});

test('§1.2.2 delta-seconds accepts digits only', () => {
  assert.equal(deltaSeconds('0'), 0);
  assert.equal(deltaSeconds('3600'), 3600);
  assert.equal(deltaSeconds('007'), 7);
  for (const bad of ['1.5', '-1', '', '1a', ' 1', '+1', '1e3', true, undefined] as const) {
    assert.equal(deltaSeconds(bad), undefined, String(bad));
  }
});

test('§1.2.2 delta-seconds larger than 2^31 is 2^31', () => {
  assert.equal(deltaSeconds('2147483648'), MAX_DELTA_SECONDS);
  assert.equal(deltaSeconds('99999999999999999999999'), MAX_DELTA_SECONDS);
  assert.equal(deltaSeconds('2147483647'), 2147483647);
});

test('§5.2.2.4 field names of qualified directives', () => {
  assert.deepEqual(fieldNames('Set-Cookie, X-Foo ,, set-cookie'), ['set-cookie', 'x-foo']);
  assert.deepEqual(fieldNames(true), []);
  assert.deepEqual(fieldNames(undefined), []);
});

test('header helpers read first / joined values and stored pairs', () => {
  assert.equal(firstValue({ age: ['1', '2'] }, 'age'), '1');
  assert.equal(joinedValue({ vary: ['a', 'b'] }, 'vary'), 'a, b');
  assert.deepEqual(storedToHeaders([['Set-Cookie', 'a'], ['set-cookie', 'b'], ['ETag', '"x"']]), { 'set-cookie': ['a', 'b'], etag: '"x"' });
});

// RFC 9213 §2.1: targeted fields are RFC 8941 Dictionaries; "If a targeted field in a given response is empty,
// or a parsing error is encountered, that field SHOULD be ignored by the cache".

test('RFC 9213 §2.1 a targeted field parses as a Dictionary of directives', () => {
  assert.deepEqual([...parseTargetedField('max-age=60, no-transform')!], [['max-age', '60'], ['no-transform', true]]);
  assert.deepEqual([...parseTargetedField(['no-store', 'max-age=5'])!], [['no-store', true], ['max-age', '5']]);
  assert.deepEqual([...parseTargetedField('private=?0, no-cache=?1, x="a,b";p=1, y=(a b)')!], [['no-cache', true], ['x', 'a,b'], ['y', true]]);
  assert.deepEqual([...parseTargetedField('max-age=1, max-age=2')!], [['max-age', '2']], 'a later key replaces the earlier (RFC 8941 §3.2)');
});

test('RFC 9213 §2.1 an empty or unparseable targeted field is ignored as a whole', () => {
  for (const bad of [undefined, '', '  ', 'Max-Age=60', 'max-age=60,', ',max-age=60', 'max-age=', 'max-age=60;', 'a="unterminated', 'a=?2', 'a b', 'max-age=60 no-store', 'a=(1 2', '"x"']) {
    assert.equal(parseTargetedField(bad), undefined, String(bad));
  }
});

test('RFC 9213 §2.2 the first valid targeted field replaces Cache-Control and Expires; s-maxage is dropped', () => {
  const res = { status: 200, headers: { 'cache-control': 'no-store', expires: 'Thu, 01 Jan 1970 00:00:00 GMT', 'a-cc': 'Bad=1', 'cdn-cache-control': 'max-age=60, s-maxage=5, no-cache="x y"' } };
  const view = targetedResponse(res, ['a-cc', 'cdn-cache-control']);
  assert.equal(view.headers['cache-control'], 'max-age=60, no-cache="x y"');
  assert.equal(view.headers['expires'], undefined);
  assert.equal(res.headers['cache-control'], 'no-store', 'the response itself is not changed');
  assert.equal(targetedResponse(res, ['a-cc']), res, 'no valid targeted field: Cache-Control applies');
  assert.equal(targetedResponse(res, []), res);
});

test('RFC 9213: obeyed in reverse mode by default, in forward mode only when enabled; own names are private', () => {
  assert.deepEqual(targetedNames(['CDN-Cache-Control'], 'reverse', false), ['cdn-cache-control']);
  assert.deepEqual(targetedNames(['CDN-Cache-Control'], 'forward', false), []);
  assert.deepEqual(targetedNames(['CDN-Cache-Control'], 'intercept', false), []);
  assert.deepEqual(targetedNames([' Larder-Cache-Control', 'CDN-Cache-Control'], 'forward', true), ['larder-cache-control', 'cdn-cache-control']);
  assert.deepEqual([...privateTargetedNames(['Larder-Cache-Control', 'CDN-Cache-Control'])], ['larder-cache-control']);
});
