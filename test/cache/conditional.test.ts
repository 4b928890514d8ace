import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluatePreconditions, parseEntityTagList, selectedBy304, updateHeaders, validatorsFor,
} from '../../src/cache/conditional.js';

const LM = 'Mon, 01 Jan 2024 00:00:00 GMT';
const hasValidator = (stored: [string, string][]): boolean => Object.keys(validatorsFor(stored)).length > 0;
const LATER = 'Tue, 02 Jan 2024 00:00:00 GMT';
const EARLIER = 'Sun, 31 Dec 2023 00:00:00 GMT';

test('§4.3.1 validators come from ETag and Last-Modified, never from Date', () => {
  assert.deepEqual(validatorsFor([['ETag', '"abc"'], ['Last-Modified', LM], ['Date', LATER]]), { 'if-none-match': '"abc"', 'if-modified-since': LM });
  assert.deepEqual(validatorsFor([['Date', LATER]]), {});
  assert.deepEqual(validatorsFor([['Last-Modified', 'garbage']]), {});
});

test('RFC 9110 §8.8.3 entity-tag lists parse strong, weak, commas inside tags and "*"', () => {
  assert.deepEqual(parseEntityTagList('"a", W/"b" ,"c,d"'), [
    { weak: false, opaque: '"a"' }, { weak: true, opaque: '"b"' }, { weak: false, opaque: '"c,d"' },
  ]);
  assert.equal(parseEntityTagList(' * '), '*');
  assert.deepEqual(parseEntityTagList('"a b", , "x'), [{ weak: false, opaque: '"a b"' }]);
});

test('RFC 9110 §8.8.3 an unquoted ETag only matches the same unquoted value', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': 'abc' }, [['ETag', 'abc']], 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': '"abc"' }, [['ETag', 'abc']], 200), 'proceed');
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': 'abc' }, [['ETag', '"abc"']], 200), 'proceed');
  assert.deepEqual(validatorsFor([['ETag', 'abc']]), { 'if-none-match': 'abc' });
});

test('§4.3.1 hasValidator', () => {
  assert.equal(hasValidator([['ETag', '"a"']]), true);
  assert.equal(hasValidator([['Last-Modified', LM]]), true);
  assert.equal(hasValidator([['Date', LM]]), false);
});

test('§4.3.4 a 304 with a strong ETag selects only the stored response with that strong ETag', () => {
  assert.equal(selectedBy304([['ETag', '"a"']], { etag: '"a"' }), true);
  assert.equal(selectedBy304([['ETag', '"b"']], { etag: '"a"' }), false);
  assert.equal(selectedBy304([['ETag', 'W/"a"']], { etag: '"a"' }), false);
  assert.equal(selectedBy304([['Last-Modified', LM]], { etag: '"a"' }), false);
});

test('§4.3.4 a 304 with only a weak ETag selects by weak comparison', () => {
  assert.equal(selectedBy304([['ETag', '"a"']], { etag: 'W/"a"' }), true);
  assert.equal(selectedBy304([['ETag', 'W/"a"']], { etag: 'W/"a"' }), true);
  assert.equal(selectedBy304([['ETag', 'W/"b"']], { etag: 'W/"a"' }), false);
});

test('§4.3.4 a 304 with Last-Modified only selects by date equality', () => {
  assert.equal(selectedBy304([['Last-Modified', LM]], { 'last-modified': LM }), true);
  assert.equal(selectedBy304([['Last-Modified', EARLIER]], { 'last-modified': LM }), false);
});

test('§4.3.4 a 304 without validators refreshes the response it was asked about', () => {
  assert.equal(selectedBy304([['ETag', '"a"']], {}), true);
});

test('§3.2 a 304 updates stored fields, replacing all lines of a field', () => {
  const out = updateHeaders(
    [['Content-Type', 'text/plain'], ['Cache-Control', 'max-age=1'], ['X-A', '1'], ['X-A', '2'], ['ETag', '"a"']],
    { 'cache-control': 'max-age=600', 'x-a': '3', 'x-new': 'n', etag: '"a"' },
  );
  assert.deepEqual(out, [['Content-Type', 'text/plain'], ['Cache-Control', 'max-age=600'], ['X-A', '3'], ['ETag', '"a"'], ['x-new', 'n']]);
});

test('§3.2 Content-Length, hop-by-hop, Connection-listed, proxy fields and Content-Range are not updated', () => {
  const out = updateHeaders([['Content-Length', '10'], ['X-Keep', 'old']], {
    'content-length': '0', 'transfer-encoding': 'chunked', connection: 'close, x-keep', 'keep-alive': 'timeout=5',
    'proxy-authenticate': 'Basic', 'content-range': 'bytes 0-1/2', upgrade: 'h2c', te: 'trailers',
  });
  assert.deepEqual(out, [['Content-Length', '10'], ['X-Keep', 'old']]);
});

test('§4.3.4 the stored Age and Date are replaced by the 304 ones, or dropped when it has none', () => {
  assert.deepEqual(updateHeaders([['Age', '100'], ['Date', LM], ['X', '1']], {}), [['X', '1']]);
  assert.deepEqual(updateHeaders([['Date', LM]], { date: LATER }), [['Date', LATER]]);
  assert.deepEqual(updateHeaders([['Age', '100']], { age: '5' }), [['Age', '5']]);
});

test('§3.2 multi-valued fields in the 304 (Set-Cookie-like arrays) are stored as several lines', () => {
  assert.deepEqual(updateHeaders([['Link', '<a>']], { link: ['<b>', '<c>'] }), [['Link', '<b>'], ['Link', '<c>']]);
});

const STORED: [string, string][] = [['ETag', '"v1"'], ['Last-Modified', LM], ['Date', LATER]];

test('RFC 9110 §13.1.2 If-None-Match uses weak comparison and lists; match → 304 for GET/HEAD', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': '"v1"' }, STORED, 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': 'W/"v1"' }, STORED, 200), 'not-modified');
  assert.equal(evaluatePreconditions('HEAD', { 'if-none-match': '"x", "v1"' }, STORED, 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': '"x", "y"' }, STORED, 200), 'proceed');
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': '*' }, STORED, 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': '"v1"' }, [['Etag', 'W/"v1"']], 200), 'not-modified');
});

test('RFC 9110 §13.1.3 If-Modified-Since is ignored when If-None-Match is present or the date is invalid', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': LM }, STORED, 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': LATER }, STORED, 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': EARLIER }, STORED, 200), 'proceed');
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': LATER, 'if-none-match': '"x"' }, STORED, 200), 'proceed');
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': 'garbage' }, STORED, 200), 'proceed');
});

test('RFC 9111 §4.3.2 If-Modified-Since falls back to Date when there is no Last-Modified', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': LATER }, [['Date', LM]], 200), 'not-modified');
  assert.equal(evaluatePreconditions('GET', { 'if-modified-since': EARLIER }, [['Date', LM]], 200), 'proceed');
});

test('RFC 9110 §13.1.1 If-Match uses strong comparison; failure → 412', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-match': '"v1"' }, STORED, 200), 'proceed');
  assert.equal(evaluatePreconditions('GET', { 'if-match': '"x"' }, STORED, 200), 'precondition-failed');
  assert.equal(evaluatePreconditions('GET', { 'if-match': 'W/"v1"' }, STORED, 200), 'precondition-failed');
  assert.equal(evaluatePreconditions('GET', { 'if-match': '*' }, STORED, 200), 'proceed');
});

test('RFC 9110 §13.1.4 If-Unmodified-Since fails when modified later; ignored with If-Match', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-unmodified-since': EARLIER }, STORED, 200), 'precondition-failed');
  assert.equal(evaluatePreconditions('GET', { 'if-unmodified-since': LATER }, STORED, 200), 'proceed');
  assert.equal(evaluatePreconditions('GET', { 'if-unmodified-since': EARLIER, 'if-match': '"v1"' }, STORED, 200), 'proceed');
});

test('RFC 9110 §13.2.1 preconditions are ignored for non-2xx stored responses', () => {
  assert.equal(evaluatePreconditions('GET', { 'if-none-match': '*' }, STORED, 404), 'proceed');
});

test('§4.3.4 a Set-Cookie in a 304 is not copied into the shared stored response unless it is public or sharing is on', () => {
  const stored: [string, string][] = [['Cache-Control', 'max-age=1'], ['ETag', '"a"']];
  const out = updateHeaders(stored, { 'cache-control': 'max-age=60', 'set-cookie': ['session=secret'] });
  assert.equal(out.some(([n]) => n.toLowerCase() === 'set-cookie'), false);
  assert.deepEqual(out.find(([n]) => n.toLowerCase() === 'cache-control'), ['Cache-Control', 'max-age=60']);
  // public after the update (from the 304 or kept from the stored response), or the operator allows it
  assert.ok(updateHeaders(stored, { 'cache-control': 'public, max-age=60', 'set-cookie': 'a=b' }).some(([n, v]) => n === 'set-cookie' && v === 'a=b'));
  assert.ok(updateHeaders([['Cache-Control', 'public, max-age=1']], { 'set-cookie': 'a=b' }).some(([n]) => n === 'set-cookie'));
  assert.ok(updateHeaders(stored, { 'set-cookie': 'a=b' }, { shareSetCookie: true }).some(([n]) => n === 'set-cookie'));
  // the 304's Cache-Control replaces the stored one: without public in it, the cookie is not shared
  assert.equal(updateHeaders([['Cache-Control', 'public, max-age=1']], { 'cache-control': 'max-age=60', 'set-cookie': 'a=b' }).some(([n]) => n === 'set-cookie'), false);
});
