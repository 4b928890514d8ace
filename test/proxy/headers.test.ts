/** Hop-by-hop handling and Via (RFC 9110 §7.6), with fast-check properties: no input throws, no hop-by-hop field survives. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stripHopByHop, connectionListed, viaNames, objectToPairs, pairsToObject } from '../../src/proxy/headers.js';

const HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

test('stripHopByHop removes the fixed set and every field Connection names, keeps the rest in order', () => {
  const raw = ['Host', 'a', 'Connection', 'X-A, keep-alive', 'X-A', '1', 'Keep-Alive', 't=1', 'TE', 'trailers', 'X-B', '2', 'connection', 'x-c', 'X-C', '3', 'Accept', '*/*'];
  assert.deepEqual(stripHopByHop(raw), ['Host', 'a', 'X-B', '2', 'Accept', '*/*']);
  assert.deepEqual([...connectionListed(raw)].sort(), ['keep-alive', 'x-a', 'x-c']);
});

test('Via loop detection matches our pseudonym as received-by only', () => {
  assert.equal(viaNames('1.1 larder', 'larder'), true);
  assert.equal(viaNames('1.0 squid, HTTP/1.1 LARDER (comment)', 'larder'), true);
  assert.equal(viaNames('1.1 larder-other, 1.1 cache.larder.example', 'larder'), false);
  assert.equal(viaNames(undefined, 'larder'), false);
});

test('property: stripping never throws and no hop-by-hop or Connection-listed field survives', () => {
  const name = fc.oneof(fc.constantFrom(...HOP, 'X-Foo', 'Host', 'Accept', 'x-foo'), fc.string({ maxLength: 12 }));
  fc.assert(fc.property(fc.array(fc.tuple(name, fc.string({ maxLength: 40 })), { maxLength: 20 }), (pairs) => {
    const raw = pairs.flat();
    const out = stripHopByHop(raw);
    const listed = connectionListed(raw);
    for (let i = 0; i < out.length; i += 2) {
      const n = out[i]!.toLowerCase();
      if (HOP.includes(n) || listed.has(n)) return false;
    }
    return out.length <= raw.length;
  }));
});

test('property: objectToPairs / pairsToObject never throw; hop-by-hop never survive', () => {
  fc.assert(fc.property(fc.dictionary(fc.oneof(fc.constantFrom(...HOP), fc.string({ minLength: 1, maxLength: 10 })), fc.oneof(fc.string({ maxLength: 20 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }))), (obj) => {
    const pairs = objectToPairs(obj);
    pairsToObject(pairs);
    return pairs.every(([n]) => !HOP.includes(n.toLowerCase()));
  }));
});

test('property: viaNames never throws', () => {
  fc.assert(fc.property(fc.string(), fc.string({ minLength: 1, maxLength: 10 }), (via, name) => typeof viaNames(via, name) === 'boolean'));
});
