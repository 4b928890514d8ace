import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { once } from 'node:events';
import type { LookupAddress } from 'node:dns';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { ConfigError, DestinationDeniedError } from '../../src/errors.js';
import { DestinationPolicy, type Resolver } from '../../src/proxy/destination.js';

const DEFAULT_DENY = ['169.254.0.0/16', 'fe80::/10'];

/** A resolver answering from a table; unknown names fail like getaddrinfo. */
function fakeResolver(table: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (hostname: string, options: { family: 0 | 4 | 6 }): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const list = table[hostname];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return list
      .map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
      .filter((a) => options.family === 0 || a.family === options.family);
  };
  return Object.assign(fn, { calls });
}

function policy(extra: Partial<ConstructorParameters<typeof DestinationPolicy>[0]> = {}): DestinationPolicy {
  return new DestinationPolicy({ denyHosts: [], denyCidrs: DEFAULT_DENY, connectPorts: ['443'], ...extra });
}

test('host patterns: exact, *.domain (subdomains only), .domain (domain and subdomains)', () => {
  const p = policy({ denyHosts: ['exact.example', '*.wild.example', '.dot.example', 'Bücher.example'] });
  assert.match(p.checkHost('exact.example')!, /matches denied pattern exact\.example/);
  assert.match(p.checkHost('EXACT.example.')!, /denied/, 'case and trailing dot');
  assert.equal(p.checkHost('sub.exact.example'), undefined);
  assert.equal(p.checkHost('wild.example'), undefined);
  assert.ok(p.checkHost('a.wild.example'));
  assert.ok(p.checkHost('a.b.wild.example'));
  assert.equal(p.checkHost('notwild.example'), undefined);
  assert.ok(p.checkHost('dot.example'));
  assert.ok(p.checkHost('x.dot.example'));
  assert.equal(p.checkHost('xdot.example'), undefined);
  assert.ok(p.checkHost('xn--bcher-kva.example'), 'IDN pattern matches the punycode host');
  assert.ok(p.checkHost('bücher.example'), 'and the Unicode one');
  assert.equal(p.checkHost('example.org'), undefined);
});

test('literal addresses against denyCidrs: metadata IP, link-local IPv6, mapped, NAT64, numeric spellings, zero address', () => {
  const p = policy();
  for (const host of [
    '169.254.169.254', '[fe80::1]', 'fe80::1%eth0', '[::ffff:169.254.169.254]', '::ffff:a9fe:a9fe', '[64:ff9b::a9fe:a9fe]',
    '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', '169.254.43518',
    '0.0.0.0', '0', '[::]', '0.1.2.3',
  ]) {
    assert.ok(p.checkHost(host), host);
  }
  assert.match(p.checkHost('169.254.169.254')!, /169\.254\.169\.254 is in denied range 169\.254\.0\.0\/16/);
  assert.match(p.checkHost('0.0.0.0')!, /unspecified address/);
  // loopback and private ranges are allowed by default (labs, CI); only when configured are they refused
  for (const host of ['127.0.0.1', '[::1]', '10.1.2.3', '192.168.0.1', '93.184.216.34', '[2606:2800:220:1::1]']) {
    assert.equal(p.checkHost(host), undefined, host);
  }
  const strict = policy({ denyCidrs: [...DEFAULT_DENY, '127.0.0.0/8', '::1/128', '10.0.0.0/8'] });
  assert.ok(strict.checkHost('127.0.0.1'));
  assert.ok(strict.checkHost('2130706433'), '127.0.0.1 spelled as a number');
  assert.ok(strict.checkHost('[::ffff:127.0.0.1]'));
  assert.ok(strict.checkHost('[::1]'));
  assert.ok(strict.checkHost('10.9.9.9'));
});

test('connect ports: single, ranges, *', () => {
  const p = policy({ connectPorts: ['443', '8443', '9000-9010'] });
  assert.equal(p.portAllowedForConnect(443), true);
  assert.equal(p.portAllowedForConnect(8443), true);
  assert.equal(p.portAllowedForConnect(9005), true);
  assert.equal(p.portAllowedForConnect(9011), false);
  assert.equal(p.portAllowedForConnect(22), false);
  assert.equal(p.portAllowedForConnect(0), false);
  assert.equal(p.portAllowedForConnect(443.5), false);
  const any = policy({ connectPorts: ['*'] });
  assert.equal(any.portAllowedForConnect(22), true);
  assert.equal(any.portAllowedForConnect(65536), false);
  assert.throws(() => policy({ connectPorts: ['ssh'] }), (e: unknown) => e instanceof ConfigError && /connectPorts/.test(e.message));
  assert.throws(() => policy({ denyCidrs: ['169.254.0.0/99'] }), (e: unknown) => e instanceof ConfigError && /^denyCidrs: "169\.254\.0\.0\/99"/.test(e.message));
});

test('lookup refuses a name resolving to a denied address (any of its addresses), passes allowed ones', async () => {
  const resolve = fakeResolver({
    'metadata.test': ['169.254.169.254'],
    'mixed.test': ['93.184.216.34', 'fe80::1'],
    'mapped.test': ['::ffff:169.254.169.254'],
    'ok.test': ['127.0.0.1', '::1'],
  });
  // loopback answers: the loopback-by-name rule is covered in test/security/own-listeners.test.ts
  const p = policy({ resolve, denyHosts: ['blocked.test'], allowLocalhostDestinations: true });
  const call = (name: string, options: object): Promise<{ err: Error | null; address: unknown; family?: number }> =>
    new Promise((done) => p.lookup(name, options, (err, address, family) => done({ err, address, family })));

  for (const name of ['metadata.test', 'mixed.test', 'mapped.test']) {
    const r = await call(name, {});
    assert.ok(r.err instanceof DestinationDeniedError, name);
    assert.equal((r.err as DestinationDeniedError).code, 'LARDER_DESTINATION_DENIED');
    assert.match(r.err.message, new RegExp(`^${name.replace('.', '\\.')} resolves to .*(169\\.254|fe80)`));
  }
  const blocked = await call('blocked.test', {});
  assert.equal((blocked.err as DestinationDeniedError).code, 'LARDER_DESTINATION_DENIED');
  assert.ok(!resolve.calls.includes('blocked.test'), 'host patterns are checked before DNS');

  const one = await call('ok.test', { family: 0 });
  assert.deepEqual([one.err, one.address, one.family], [null, '127.0.0.1', 4]);
  const six = await call('ok.test', { family: 6 });
  assert.deepEqual([six.err, six.address, six.family], [null, '::1', 6]);
  const all = await call('ok.test', { all: true });
  assert.equal(all.err, null);
  assert.deepEqual(all.address, [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);

  const missing = await call('nx.test', {});
  assert.equal((missing.err as NodeJS.ErrnoException).code, 'ENOTFOUND');
});

test('lookup plugs into net.connect: the connection uses the checked address', async () => {
  const server = createServer((s) => s.end('hello'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const p = policy({ resolve: fakeResolver({ 'local.test': ['127.0.0.1'], 'meta.test': ['169.254.169.254'] }), allowLocalhostDestinations: true });
  try {
    const ok = connect({ host: 'local.test', port, lookup: p.lookup as never });
    ok.setEncoding('utf8');
    let got = '';
    ok.on('data', (d: string) => { got += d; });
    await once(ok, 'end');
    assert.equal(got, 'hello');
    ok.destroy();

    const denied = connect({ host: 'meta.test', port, lookup: p.lookup as never });
    const [err] = (await once(denied, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'LARDER_DESTINATION_DENIED');
    denied.destroy();
  } finally {
    server.close();
  }
});

test('lookup plugs into an undici Agent (connect: { lookup })', async () => {
  const server = createHttpServer((_req, res) => res.end('from origin'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const p = policy({ resolve: fakeResolver({ 'origin.test': ['127.0.0.1'], 'rebind.test': ['169.254.169.254'] }), allowLocalhostDestinations: true });
  const agent = new Agent({ connect: { lookup: p.lookup as never, timeout: 2000 } });
  try {
    const res = await request(`http://origin.test:${port}/`, { dispatcher: agent });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'from origin');
    await assert.rejects(request(`http://rebind.test:${port}/`, { dispatcher: agent }), (e: NodeJS.ErrnoException) => e.code === 'LARDER_DESTINATION_DENIED');
  } finally {
    await agent.close();
    server.close();
  }
});

test('resolveForConnect: host rules, port, then the resolved address', async () => {
  const p = policy({ connectPorts: ['443'], denyHosts: ['.corp.test'], resolve: fakeResolver({ 'api.test': ['93.184.216.34'], 'meta.test': ['169.254.169.254'], 'v6.test': ['2001:db8::1'] }) });
  assert.deepEqual(await p.resolveForConnect('api.test', 443), { address: '93.184.216.34', family: 4 });
  assert.deepEqual(await p.resolveForConnect('v6.test', 443), { address: '2001:db8::1', family: 6 });
  assert.deepEqual(await p.resolveForConnect('[2001:db8::2]', 443), { address: '2001:db8::2', family: 6 });
  const denied = async (host: string, port: number, rule: string): Promise<void> => {
    await assert.rejects(p.resolveForConnect(host, port), (e: unknown) => e instanceof DestinationDeniedError && e.code === 'LARDER_DESTINATION_DENIED' && e.rule === rule);
  };
  await denied('api.test', 22, 'connectPorts');
  await denied('meta.test', 443, 'denyCidrs');
  await denied('169.254.169.254', 443, 'destination');
  await denied('[fe80::1]', 443, 'destination');
  await denied('www.corp.test', 443, 'destination');
  await assert.rejects(p.resolveForConnect('nx.test', 443), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
});

test('property: checkHost never throws on arbitrary strings', () => {
  const p = policy({ denyHosts: ['*.example.com', '.corp', 'exact.host'] });
  fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.domain(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.ipV6().map((s) => `[${s}]`)), (s) => {
    const r = p.checkHost(s);
    assert.ok(r === undefined || typeof r === 'string');
  }), { numRuns: 3000 });
});

test('property: every address in 169.254.0.0/16 is refused in IPv4, mapped and NAT64 form', () => {
  const p = policy();
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (a, b) => {
    const v4 = `169.254.${a}.${b}`;
    assert.ok(p.checkHost(v4));
    assert.ok(p.checkHost(`[::ffff:${v4}]`));
    assert.ok(p.checkHost(`64:ff9b::${v4}`));
    assert.ok(p.checkHost(String(((169 << 24) >>> 0) + (254 << 16) + (a << 8) + b)));
  }), { numRuns: 500 });
});
