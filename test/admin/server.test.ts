import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { startAdmin, adminTokenFor, type AdminHandle } from '../../src/admin/server.js';
import { hostAllowed } from '../../src/admin/api.js';
import { isLoopbackHost } from '../../src/net/host.js';
import { Metrics } from '../../src/admin/metrics.js';
import { record } from '../log/records.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

const silent = pino({ level: 'silent' });

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string; json(): any }

function call(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: opts.headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, json: () => JSON.parse(text) });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function start(t: { after: (fn: () => Promise<void>) => void }, adminToken?: string, purge?: (target: { url?: string; prefix?: string }) => Promise<number>) {
  const metrics = new Metrics({ storeStats: () => [{ tier: 'memory', objects: 1, bytes: 10, budget: 100, evictions: 0, hits: 0, misses: 0 }], defaultMetrics: false });
  const purges: { url?: string; prefix?: string }[] = [];
  const handle: AdminHandle = await startAdmin({
    config: { adminHost: '127.0.0.1', adminPort: 0, adminToken },
    metrics,
    purge: purge ?? (async (target) => { purges.push(target); return target.url ? 1 : 7; }),
    info: () => ({ version: '9.9.9', uptime: 12 }),
    log: silent,
  });
  t.after(() => handle.close());
  return { handle, metrics, purges, port: handle.port };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

test('loopback without a token: health, stats, metrics', async (t) => {
  const { port, metrics, handle } = await start(t);
  assert.equal(handle.token, undefined);
  metrics.onRequest(record({ cache: 'hit', bytesSent: 500 }));
  metrics.onRequest(record({ cache: 'miss', bytesSent: 1500 }));

  const health = await call(port, 'GET', '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(health.json(), { status: 'ok' });

  const stats = await call(port, 'GET', '/stats');
  assert.equal(stats.status, 200);
  assert.match(String(stats.headers['content-type']), /^application\/json/);
  assert.equal(stats.headers['cache-control'], 'no-store');
  const s = stats.json();
  assert.equal(s.version, '9.9.9', 'info() is merged');
  assert.equal(s.totals.requests, 2);
  assert.equal(s.byteHitRatio, 0.25);
  assert.equal(s.store[0].tier, 'memory');

  const m = await call(port, 'GET', '/metrics');
  assert.equal(m.status, 200);
  assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const p = parsePrometheusText(m.text);
  assert.equal(sampleValue(p, 'larder_requests_total', { method: 'GET', cache: 'hit' }), 1);
  assert.equal(sampleValue(p, 'larder_store_objects', { tier: 'memory' }), 1);
});

test('loopback without a token refuses foreign Host names (DNS rebinding)', async (t) => {
  const { port } = await start(t);
  const r = await call(port, 'GET', '/stats', { headers: { host: 'attacker.example:3129' } });
  assert.equal(r.status, 403);
  assert.deepEqual(r.json(), { error: 'Host not allowed' });
  assert.equal((await call(port, 'GET', '/stats', { headers: { host: 'localhost:3129' } })).status, 200);
  assert.equal((await call(port, 'GET', '/stats', { headers: { host: '[::1]:3129' } })).status, 200);
});

test('configured token: refused when missing or wrong, accepted when right', async (t) => {
  const { port, handle } = await start(t, 's3cret-token');
  assert.equal(handle.token, undefined, 'a configured token is not echoed back');
  const badHeaders: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 'Bearer s3cret-token-and-more' }, { authorization: 'Basic czNjcmV0LXRva2Vu' }];
  for (const headers of badHeaders) {
    for (const path of ['/stats', '/metrics', '/']) {
      const r = await call(port, 'GET', path, { headers });
      assert.equal(r.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.deepEqual(r.json(), { error: 'missing or wrong admin token' });
      assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    }
    const p = await call(port, 'POST', '/purge', { headers: { ...headers, ...JSON_HEADERS }, body: '{"url":"http://a.test/"}' });
    assert.equal(p.status, 401);
  }
  const ok = { authorization: 'Bearer s3cret-token' };
  assert.equal((await call(port, 'GET', '/stats', { headers: ok })).status, 200);
  assert.equal((await call(port, 'GET', '/metrics', { headers: ok })).status, 200);
  // ?token= only for the dashboard page, not the API
  assert.equal((await call(port, 'GET', '/stats?token=s3cret-token')).status, 401);
  const page = await call(port, 'GET', '/?token=s3cret-token');
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
  assert.match(page.text, /<script src="dashboard.js">/);
  assert.equal((await call(port, 'GET', '/?token=nope')).status, 401);
  // health and the static code need no token; with a token set, Host is not checked
  assert.equal((await call(port, 'GET', '/healthz')).status, 200);
  assert.equal((await call(port, 'GET', '/dashboard.js')).status, 200);
  const uplot = await call(port, 'GET', '/uplot.min.js');
  assert.equal(uplot.status, 200);
  assert.match(uplot.text, /uPlot/);
  assert.equal((await call(port, 'GET', '/uplot.min.css')).status, 200);
  assert.equal((await call(port, 'GET', '/stats', { headers: { ...ok, host: 'proxy.internal:3129' } })).status, 200);
});

test('purge calls back with the url or the prefix', async (t) => {
  const { port, purges } = await start(t);
  const a = await call(port, 'POST', '/purge', { headers: JSON_HEADERS, body: JSON.stringify({ url: 'http://a.test/x?y=1' }) });
  assert.equal(a.status, 200);
  assert.deepEqual(a.json(), { purged: 1 });
  const b = await call(port, 'POST', '/purge', { headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ prefix: 'http://a.test/' }) });
  assert.deepEqual(b.json(), { purged: 7 });
  assert.deepEqual(purges, [{ url: 'http://a.test/x?y=1' }, { prefix: 'http://a.test/' }]);
});

test('bad requests get short JSON errors and never reach purge', async (t) => {
  const { port, purges } = await start(t);
  const cases: [string, string, Record<string, string>, string | undefined, number][] = [
    ['POST', '/purge', JSON_HEADERS, '{not json', 400],
    ['POST', '/purge', JSON_HEADERS, '[]', 400],
    ['POST', '/purge', JSON_HEADERS, '{"url":"http://a/","prefix":"http://a/"}', 400],
    ['POST', '/purge', JSON_HEADERS, '{"url":""}', 400],
    ['POST', '/purge', JSON_HEADERS, '{"url":42}', 400],
    ['POST', '/purge', JSON_HEADERS, '{"path":"/x"}', 400],
    ['POST', '/purge', { 'content-type': 'text/plain' }, '{"url":"http://a/"}', 415],
    ['POST', '/purge', {}, '{"url":"http://a/"}', 415],
    ['POST', '/purge', JSON_HEADERS, JSON.stringify({ url: `http://a.test/${'x'.repeat(70_000)}` }), 413],
    ['GET', '/purge', {}, undefined, 405],
    ['DELETE', '/stats', {}, undefined, 405],
    ['POST', '/metrics', JSON_HEADERS, '{}', 405],
    ['GET', '/nope', {}, undefined, 404],
    ['GET', '/../../etc/passwd', {}, undefined, 404],
  ];
  for (const [method, path, headers, body, status] of cases) {
    const r = await call(port, method, path, { headers, body });
    assert.equal(r.status, status, `${method} ${path} ${body?.slice(0, 60)}`);
    const j = r.json();
    assert.equal(typeof j.error, 'string');
    assert.ok(j.error.length < 120 && !/\bat .*\(/.test(r.text), 'short, no stack trace');
  }
  assert.deepEqual(purges, []);
  const r405 = await call(port, 'GET', '/purge');
  assert.equal(r405.headers.allow, 'POST');
});

test('a failing purge answers 500 without details', async (t) => {
  const { port } = await start(t, undefined, async () => { throw new Error('lmdb exploded at /secret/path'); });
  const r = await call(port, 'POST', '/purge', { headers: JSON_HEADERS, body: '{"prefix":"http://a/"}' });
  assert.equal(r.status, 500);
  assert.deepEqual(r.json(), { error: 'purge failed' });
});

test('token policy: generated off loopback, none on loopback, configured wins', () => {
  assert.deepEqual(adminTokenFor({ adminHost: '127.0.0.1', adminToken: undefined }), { generated: false });
  assert.deepEqual(adminTokenFor({ adminHost: '::1', adminToken: undefined }), { generated: false });
  const g = adminTokenFor({ adminHost: '0.0.0.0', adminToken: undefined });
  assert.equal(g.generated, true);
  assert.ok(g.token && g.token.length >= 32);
  assert.notEqual(adminTokenFor({ adminHost: '0.0.0.0', adminToken: undefined }).token, g.token);
  assert.deepEqual(adminTokenFor({ adminHost: '10.1.2.3', adminToken: 'mine' }), { token: 'mine', generated: false });
  assert.ok(isLoopbackHost('127.0.0.5') && isLoopbackHost('[::1]') && isLoopbackHost('localhost'));
  assert.ok(!isLoopbackHost('0.0.0.0') && !isLoopbackHost('::') && !isLoopbackHost('192.168.1.1'));
  assert.ok(hostAllowed('127.0.0.1:3129', '127.0.0.1'));
  assert.ok(!hostAllowed(undefined, '127.0.0.1'));
  assert.ok(!hostAllowed('127.0.0.1.evil.test', '127.0.0.1'));
});

test('a port in use is a clear error', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as import('node:net').AddressInfo).port;
  await assert.rejects(startAdmin({
    config: { adminHost: '127.0.0.1', adminPort: port, adminToken: undefined },
    metrics: new Metrics({ storeStats: () => [], defaultMetrics: false }),
    purge: async () => 0, info: () => ({}), log: silent,
  }), new RegExp(`admin listener 127\\.0\\.0\\.1:${port}: address already in use`));
});
