import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseFieldValue, variantId, variantMatches, varyFieldNames } from '../../src/cache/vary.js';

test('§4.1 Vary field names are lower-cased, trimmed and de-duplicated across lines', () => {
  assert.deepEqual(varyFieldNames({ vary: ['Accept-Encoding , accept-language', 'ACCEPT-ENCODING,,X-Foo'] }), ['accept-encoding', 'accept-language', 'x-foo']);
  assert.deepEqual(varyFieldNames([['Vary', 'Accept'], ['vary', 'Cookie']]), ['accept', 'cookie']);
  assert.deepEqual(varyFieldNames({}), []);
});

test('§4.1 Vary: * wins', () => {
  assert.equal(varyFieldNames({ vary: 'Accept, *' }), '*');
  assert.equal(varyFieldNames([['Vary', '*']]), '*');
});

test('§4.1 field values are normalised: lines combined, whitespace around commas collapsed', () => {
  assert.equal(normaliseFieldValue('X-Foo', { 'x-foo': ['a', 'b'] }), 'a, b');
  assert.equal(normaliseFieldValue('x-foo', { 'x-foo': 'a ,b' }), 'a, b');
  assert.equal(normaliseFieldValue('x-foo', { 'x-foo': '  a,   b  ' }), 'a, b');
  assert.equal(normaliseFieldValue('x-foo', {}), null);
  assert.equal(normaliseFieldValue('x-foo', { 'x-foo': '' }), '');
});

test('§4.1 values stay case-sensitive except Accept-Encoding, whose order and case are canonical', () => {
  assert.notEqual(normaliseFieldValue('x-foo', { 'x-foo': 'A' }), normaliseFieldValue('x-foo', { 'x-foo': 'a' }));
  assert.equal(normaliseFieldValue('accept-encoding', { 'accept-encoding': 'GZIP, br;q=0.5' }),
    normaliseFieldValue('accept-encoding', { 'accept-encoding': 'br ; q=0.5,gzip' }));
  assert.equal(normaliseFieldValue('accept-language', { 'accept-language': 'en-US,FR' }), 'en-us, fr');
});

test('variantId is empty without Vary and distinguishes value vectors', () => {
  assert.equal(variantId([], []), '');
  const ids = new Set([
    variantId(['a'], ['x']), variantId(['a'], [null]), variantId(['a'], ['null']), variantId(['a'], ['']),
    variantId(['a', 'b'], ['x', 'y']), variantId(['a', 'b'], ['x,y', null]), variantId(['a,b'], ['x']),
  ]);
  assert.equal(ids.size, 7);
  assert.equal(variantId(['a'], ['x']), variantId(['a'], ['x']));
});

test('§4.1 a stored variant matches only requests with the same normalised values', () => {
  const meta = { vary: ['accept-language', 'x-foo'], varyValues: ['en, fr', null] };
  assert.equal(variantMatches(meta, { 'accept-language': 'en,fr' }), true);
  assert.equal(variantMatches(meta, { 'accept-language': ['en', 'fr'] }), true);
  assert.equal(variantMatches(meta, { 'accept-language': 'en,fr', 'x-foo': '1' }), false);
  assert.equal(variantMatches(meta, { 'accept-language': 'fr, en' }), false);
  assert.equal(variantMatches({ vary: [], varyValues: [] }, { anything: 'x' }), true);
  assert.equal(variantMatches({ vary: ['*'], varyValues: [null] }, {}), false);
});
