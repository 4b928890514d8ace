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

// RFC 9111 §4.1: "The selecting header fields from two requests are defined to match if and only if those in the
// first request can be transformed to those in the second request by applying any of: ... normalizing both header
// field values in a way that is known to have identical semantics, according to the header field's
// specification (e.g., reordering field values when order is not significant; case-normalization, where values
// are defined to be case-insensitive)". Accept-Language/-Encoding: weights order the members (RFC 9110 §12.4.2),
// the order of the list does not; language ranges (RFC 4647 §2) and codings (RFC 9110 §8.4.1) ignore case.
test('§4.1 Accept-Language values differing only in member order or case select the same variant', () => {
  const al = (v: string | string[]) => normaliseFieldValue('accept-language', { 'accept-language': v });
  assert.equal(al('en-US, fr;q=0.5, de;q=0.3'), al('DE;q=0.3,fr ; q=0.5 , en-us'));
  assert.equal(al(['fr', 'en-US']), al('en-us, fr'));
  assert.equal(al('en;q=1, fr'), al('fr, en'), 'q=1 is the default weight');
  assert.equal(al('en;q=1.000'), al('en'));
  assert.notEqual(al('en;q=0.5, fr'), al('en, fr;q=0.5'), 'different weights are different preferences');
  assert.notEqual(al('en'), al('en-us'));
  assert.equal(al(''), '');
});

test('§4.1 Accept-Encoding values differing only in member order, case or default weight select the same variant', () => {
  const ae = (v: string) => normaliseFieldValue('accept-encoding', { 'accept-encoding': v });
  assert.equal(ae('gzip, deflate, br'), ae('BR, Deflate, gzip'));
  assert.equal(ae('gzip;q=1.0, br'), ae('br,gzip'));
  assert.notEqual(ae('gzip;q=0, br'), ae('gzip, br'));
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
  assert.equal(variantMatches(meta, { 'accept-language': 'fr, en' }), true, 'member order carries no meaning');
  assert.equal(variantMatches(meta, { 'accept-language': 'en;q=0.5, fr' }), false, 'a weight does');
  assert.equal(variantMatches({ vary: [], varyValues: [] }, { anything: 'x' }), true);
  assert.equal(variantMatches({ vary: ['*'], varyValues: [null] }, {}), false);
});
