import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackAddress, reachesLoopback } from '../../src/net/address.js';
import { isLocalhostName, isLoopbackHost, normalizeHost } from '../../src/net/host.js';
import { hostAllowed } from '../../src/admin/api.js';

test('normalizeHost: lower case, no brackets, no surrounding space or trailing dots', () => {
  assert.equal(normalizeHost(' [FE80::1] '), 'fe80::1');
  assert.equal(normalizeHost('Example.COM..'), 'example.com');
});

test('one isLoopbackHost for the admin listener, its Host check and the open-relay check', () => {
  // the admin copy missed these two spellings of loopback
  assert.equal(isLoopbackHost('localhost.'), true);
  assert.equal(isLoopbackHost('::ffff:7f00:1'), true);
  assert.equal(hostAllowed('localhost.:3129', '127.0.0.1'), true);
  // and accepted a half-bracketed address
  assert.equal(isLoopbackHost('[::1'), false);
  for (const h of ['0.0.0.0', '::', '::127.0.0.1', 'ip6-localhost', 'evil.test']) assert.equal(isLoopbackHost(h), false, h);
});

test('loopback client vs loopback destination: embedded IPv4 forms reach loopback but are not a loopback client', () => {
  for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '[::1]']) {
    assert.equal(isLoopbackAddress(a), true, a);
    assert.equal(reachesLoopback(a), true, a);
  }
  for (const a of ['::127.0.0.1', '64:ff9b::7f00:1']) {
    assert.equal(isLoopbackAddress(a), false, a);
    assert.equal(reachesLoopback(a), true, a);
  }
  assert.equal(isLocalhostName('ip6-loopback'), true);
  assert.equal(isLocalhostName('localhost.example'), false);
});
