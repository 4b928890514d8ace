import { test } from 'node:test';
import assert from 'node:assert/strict';
import { invalidationTargets } from '../../src/cache/invalidation.js';

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
