import { test } from 'node:test';
import assert from 'node:assert/strict';
import { primaryKey } from '../../src/cache/key.js';

test('§2 scheme and host are case-insensitive', () => {
  assert.equal(primaryKey('HTTP://Example.COM/Path'), 'http://example.com/Path');
});

test('§2 default ports are dropped, others kept', () => {
  assert.equal(primaryKey('http://example.com:80/a'), 'http://example.com/a');
  assert.equal(primaryKey('https://example.com:443/a'), 'https://example.com/a');
  assert.equal(primaryKey('http://example.com:8080/a'), 'http://example.com:8080/a');
  assert.notEqual(primaryKey('https://example.com:80/a'), primaryKey('https://example.com/a'));
});

test('§2 empty path is "/" and the fragment is dropped', () => {
  assert.equal(primaryKey('http://example.com'), 'http://example.com/');
  assert.equal(primaryKey('http://example.com/a?b=1#frag'), 'http://example.com/a?b=1');
});

test('RFC 3986 §6.2.2.2 unreserved percent-encodings are decoded, others upper-cased', () => {
  assert.equal(primaryKey('http://example.com/%7euser/%41%2f?q=%7e%2f'), 'http://example.com/~user/A%2F?q=~%2F');
  assert.equal(primaryKey('http://example.com/~user/A%2F'), primaryKey('http://example.com/%7Euser/%41%2F'));
});

test('path case and query order are significant', () => {
  assert.notEqual(primaryKey('http://example.com/A'), primaryKey('http://example.com/a'));
  assert.notEqual(primaryKey('http://example.com/?a=1&b=2'), primaryKey('http://example.com/?b=2&a=1'));
});

test('ignored query parameters are removed, the others keep their order', () => {
  const ignore = ['utm_source', 'fbclid'];
  assert.equal(primaryKey('http://e.com/p?b=2&utm_source=x&a=1&fbclid', ignore), 'http://e.com/p?b=2&a=1');
  assert.equal(primaryKey('http://e.com/p?utm_source=x', ignore), 'http://e.com/p');
  assert.equal(primaryKey('http://e.com/p?utm_sourcex=1', ignore), 'http://e.com/p?utm_sourcex=1');
});

test('dot segments are removed', () => {
  assert.equal(primaryKey('http://e.com/a/./b/../c'), 'http://e.com/a/c');
});

test('a string that is not an absolute URL maps to itself', () => {
  assert.equal(primaryKey('not a url'), 'not a url');
});
