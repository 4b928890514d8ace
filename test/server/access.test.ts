import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { makeConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { ClientAccess } from '../../src/server/access.js';
import { addressInList, normalizeAddress, parseCidrList } from '../../src/net/address.js';
import { isLoopbackHost } from '../../src/net/host.js';
import { openRelayProblem } from '../../src/cli/open-relay-check.js';

test('empty allow means loopback only, in every textual form', () => {
  const a = new ClientAccess({ allow: [], allowAll: false });
  for (const ok of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '[::1]']) assert.equal(a.isAllowed(ok), true, ok);
  for (const no of ['10.0.0.1', '192.168.1.1', '::2', 'fe80::1', '::ffff:10.0.0.1', '0.0.0.0', '::', 'localhost', '', 'garbage', undefined]) {
    assert.equal(a.isAllowed(no), false, String(no));
  }
});

test('IPv4 and IPv6 CIDR rules, mapped addresses match IPv4 rules', () => {
  const a = new ClientAccess({ allow: ['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::ffff:172.16.0.0/108'], allowAll: false });
  assert.equal(a.isAllowed('10.255.255.255'), true);
  assert.equal(a.isAllowed('11.0.0.0'), false);
  assert.equal(a.isAllowed('::ffff:10.1.2.3'), true);
  assert.equal(a.isAllowed('::ffff:a01:203'), true);
  assert.equal(a.isAllowed('192.168.1.7'), true);
  assert.equal(a.isAllowed('192.168.1.8'), false);
  assert.equal(a.isAllowed('2001:db8:ffff::1'), true);
  assert.equal(a.isAllowed('2001:DB8::1'), true);
  assert.equal(a.isAllowed('2001:db9::1'), false);
  assert.equal(a.isAllowed('172.16.5.5'), true, 'mapped IPv6 rule stored as its IPv4 rule');
  assert.equal(a.isAllowed('172.32.0.1'), false);
  assert.equal(a.isAllowed('127.0.0.1'), false, 'explicit allow replaces the loopback default');
  assert.equal(a.isAllowed('fe80::1%eth0'), false);
});

test('allowAll admits anyone with an address', () => {
  const a = new ClientAccess({ allow: [], allowAll: true });
  assert.equal(a.isAllowed('203.0.113.9'), true);
  assert.equal(a.isAllowed('2001:db8::9'), true);
});

test('a bad CIDR is a ConfigError naming the key and the entry', () => {
  for (const bad of ['10.0.0.0/33', 'fe80::/129', 'example.com', '10.0.0.0/x', '300.1.1.1', '']) {
    assert.throws(
      () => parseCidrList(['127.0.0.1', bad], 'purgeAllow'),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith('purgeAllow: ') && e.message.includes(JSON.stringify(bad)),
      bad,
    );
  }
  assert.throws(() => new ClientAccess({ allow: ['1.2.3.4/99'], allowAll: false }), /allow: "1\.2\.3\.4\/99" is not a valid CIDR/);
});

test('normalizeAddress and addressInList see embedded IPv4 (mapped, NAT64, compatible)', () => {
  assert.deepEqual(normalizeAddress('::ffff:169.254.169.254'), { address: '169.254.169.254', family: 4 });
  assert.deepEqual(normalizeAddress('[FE80::1%eth0]'), { address: 'fe80::1', family: 6 });
  assert.equal(normalizeAddress('nope'), undefined);
  const link = parseCidrList(['169.254.0.0/16'], 'denyCidrs');
  assert.equal(addressInList(link, '::ffff:a9fe:a9fe'), true);
  assert.equal(addressInList(link, '64:ff9b::169.254.169.254'), true);
  assert.equal(addressInList(link, '::169.254.169.254'), true);
  assert.equal(addressInList(link, '2001:db8::a9fe:a9fe'), false);
  assert.equal(addressInList(link, '169.253.255.255'), false);
});

test('isLoopbackHost', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST.', 'app.localhost', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.com', '', '::2']) assert.equal(isLoopbackHost(h), false, h);
});

test('openRelayProblem: loopback is fine, other addresses need allow, authFile or allowAll', () => {
  for (const host of ['127.0.0.1', '::1', 'localhost']) assert.equal(openRelayProblem(makeConfig({ host })), undefined, host);
  for (const host of ['0.0.0.0', '::', '192.168.1.10']) {
    const msg = openRelayProblem(makeConfig({ host }));
    assert.ok(msg, host);
    assert.match(msg, /--allow\b/);
    assert.match(msg, /--auth-file/);
    assert.match(msg, /--allow-all/);
    assert.ok(msg.includes(host), 'names the address');
    assert.equal(openRelayProblem(makeConfig({ host, allow: ['10.0.0.0/8'] })), undefined);
    assert.equal(openRelayProblem(makeConfig({ host, authFile: '/etc/larder/htpasswd' })), undefined);
    assert.equal(openRelayProblem(makeConfig({ host, allowAll: true })), undefined);
  }
});

test('property: isAllowed and parse helpers never throw on arbitrary strings', () => {
  const a = new ClientAccess({ allow: ['10.0.0.0/8', 'fd00::/8'], allowAll: false });
  const list = parseCidrList(['169.254.0.0/16', 'fe80::/10'], 'denyCidrs');
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), (s) => {
    assert.equal(typeof a.isAllowed(s), 'boolean');
    assert.equal(typeof addressInList(list, s), 'boolean');
    normalizeAddress(s);
    isLoopbackHost(s);
  }), { numRuns: 2000 });
});

test('property: an IPv4 address and its mapped IPv6 form get the same answer', () => {
  const a = new ClientAccess({ allow: ['10.0.0.0/8', '192.168.0.0/16', '127.0.0.0/8'], allowAll: false });
  fc.assert(fc.property(fc.ipV4(), (ip) => {
    assert.equal(a.isAllowed(`::ffff:${ip}`), a.isAllowed(ip));
  }), { numRuns: 2000 });
});
