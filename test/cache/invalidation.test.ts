import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalidationTargets, postResponseReusable } from '../../src/cache/invalidation.js';

test('§4.4 an unsafe method with a 2xx invalidates the target URI', () => {
  assert.deepEqual(invalidationTargets('POST', 'http://e.com/a#x', 200, {}), ['http://e.com/a']);
  assert.deepEqual(invalidationTargets('DELETE', 'http://e.com/a', 204, {}), ['http://e.com/a']);
  assert.deepEqual(invalidationTargets('PATCH', 'http://e.com/a', 303, {}), ['http://e.com/a']);
});

test('§4.4 safe methods and error responses invalidate nothing', () => {
  for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) assert.deepEqual(invalidationTargets(m, 'http://e.com/a', 200, {}), []);
  assert.deepEqual(invalidationTargets('POST', 'http://e.com/a', 404, {}), []);
  assert.deepEqual(invalidationTargets('POST', 'http://e.com/a', 500, {}), []);
  assert.deepEqual(invalidationTargets('POST', 'http://e.com/a', 100, {}), []);
});

test('§4.4 same-origin Location and Content-Location are invalidated, resolved against the target', () => {
  const t = invalidationTargets('POST', 'http://e.com/dir/a', 201, { location: 'b', 'content-location': '/c?x=1' });
  assert.deepEqual(t, ['http://e.com/dir/a', 'http://e.com/dir/b', 'http://e.com/c?x=1']);
});

test('§4.4 Location on another origin is not invalidated', () => {
  const t = invalidationTargets('PUT', 'http://e.com/a', 200, { location: 'http://other.com/a', 'content-location': 'https://e.com/a' });
  assert.deepEqual(t, ['http://e.com/a']);
});

test('§4.4 duplicates and garbage are skipped', () => {
  const t = invalidationTargets('POST', 'http://e.com/a', 200, { location: 'http://e.com/a', 'content-location': 'http://[bad' });
  assert.deepEqual(t, ['http://e.com/a']);
});

// RFC 9110 §9.3.3: "Responses to POST requests are only cacheable when they include explicit freshness
// information (see Section 4.2.1 of [CACHING]) and a Content-Location header field that has the same value as
// the POST's target URI (Section 8.7)."
test('§9.3.3 a POST response is reusable for GET only with explicit freshness and Content-Location = target', () => {
  const t = 'http://a.test/p?q=1';
  assert.equal(postResponseReusable(t, 200, { 'cache-control': 'max-age=60', 'content-location': 'http://a.test/p?q=1' }), true);
  assert.equal(postResponseReusable(t, 200, { 'cache-control': 's-maxage=60', 'content-location': '/p?q=1' }), true, 'relative to the target');
  assert.equal(postResponseReusable(t, 200, { expires: 'Fri, 01 Jan 2100 00:00:00 GMT', 'content-location': '/p?q=1' }), true);
  assert.equal(postResponseReusable(t, 200, { 'cdn-cache-control': 'max-age=60', 'content-location': '/p?q=1' }, ['cdn-cache-control']), true, 'freshness from a targeted field');
  assert.equal(postResponseReusable(t, 200, { 'cache-control': 'max-age=60' }), false, 'no Content-Location');
  assert.equal(postResponseReusable(t, 200, { 'cache-control': 'max-age=60', 'content-location': '/p' }), false, 'another URI');
  assert.equal(postResponseReusable(t, 200, { 'cache-control': 'max-age=60', 'content-location': 'http://b.test/p?q=1' }), false, 'another origin');
  assert.equal(postResponseReusable(t, 200, { 'content-location': '/p?q=1', 'last-modified': 'Fri, 01 Jan 2000 00:00:00 GMT' }), false, 'heuristic freshness is not explicit');
  assert.equal(postResponseReusable(t, 500, { 'cache-control': 'max-age=60', 'content-location': '/p?q=1' }), false, 'an error');
  assert.equal(postResponseReusable(t, 200, { 'cache-control': 'max-age=60', 'content-location': 'http://[bad' }), false);
});
