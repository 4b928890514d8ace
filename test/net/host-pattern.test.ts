import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { firstMatchingPattern, hostKey, parseHostPatterns } from '../../src/net/host-pattern.js';
import { DestinationPolicy } from '../../src/proxy/destination.js';
import { Interceptor } from '../../src/tls/intercept.js';
import type { LeafMinter } from '../../src/tls/mint.js';
import http from 'node:http';

const matches = (host: string, pattern: string): boolean => firstMatchingPattern(parseHostPatterns([pattern]), host) !== undefined;

test('one host-pattern syntax: exact, *.sub, .domain and *; case, brackets and trailing dots ignored', () => {
  assert.equal(matches('Example.COM..', 'example.com'), true);
  assert.equal(matches('a.example.com', '*.example.com'), true);
  assert.equal(matches('example.com', '*.example.com'), false);
  assert.equal(matches('example.com', '.example.com'), true);
  assert.equal(matches('badexample.com', '.example.com'), false);
  assert.equal(matches('[::1]', '::1'), true);
  assert.equal(matches('anything.test', '*'), true);
  assert.deepEqual(parseHostPatterns(['', '  ', 'a.test']).map((p) => p.text), ['a.test'], 'empty entries are dropped');
});

test('names compare as ASCII and IPv4 literals in dotted form, in every list that takes patterns', () => {
  assert.equal(hostKey('Bücher.Example'), 'xn--bcher-kva.example');
  assert.equal(hostKey('0x7f.1'), '127.0.0.1');
  assert.equal(matches('xn--bcher-kva.example', 'bücher.example'), true);
  assert.equal(matches('2130706433', '127.0.0.1'), true);
  // interception used to compare the raw text: an IDN pattern never matched the punycode CONNECT host
  const interceptor = new Interceptor({ minter: {} as LeafMinter, hosts: ['bücher.example'], skip: ['*.skip.test'], server: http.createServer() });
  assert.equal(interceptor.shouldIntercept('xn--bcher-kva.example'), true);
  assert.equal(interceptor.shouldIntercept('a.skip.test'), false);
  assert.equal(interceptor.shouldIntercept('other.test'), false);
});

test('denyHosts "*" refuses every host (it used to match nothing, silently)', () => {
  const p = new DestinationPolicy({ denyHosts: ['*'], denyCidrs: [], connectPorts: ['443'] });
  assert.match(p.checkHost('example.com') ?? '', /matches denied pattern \* \(denyHosts\)/);
  assert.match(p.checkHost('10.1.2.3') ?? '', /denied pattern \*/);
});

test('property: matching never throws and a host always matches itself as an exact pattern', () => {
  fc.assert(fc.property(fc.domain(), fc.string(), (host, pattern) => {
    assert.equal(typeof matches(host, pattern), 'boolean');
    assert.equal(matches(host, host), true);
  }));
});
