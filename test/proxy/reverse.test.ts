/** Reverse proxy mode: origin-form requests go to --upstream, Host passed through or rewritten, cached per Host. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { viaProxy, rawExchange } from '../helpers/client.js';

const exec = promisify(execFile);
let origin: TestOrigin;
let larder: TestLarder;
let other: TestOrigin;

before(async () => {
  origin = await startOrigin((req, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' });
    res.end(`host=${req.headers.host} path=${req.url}`);
  });
  other = await startOrigin((_req, res) => { res.writeHead(200, { 'cache-control': 'no-store' }); res.end('forwarded'); });
  larder = await startTestLarder({ upstream: origin.url });
});
after(async () => {
  await larder.stop();
  await origin.close();
  await other.close();
});

test('origin-form requests go to the upstream with the client Host passed through', async () => {
  const r = await viaProxy(larder.port, '/page?x=1', { headers: { host: 'www.example.test' } });
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'host=www.example.test path=/page?x=1');
  assert.equal(r.headers.via, '1.1 larder');
  const again = await viaProxy(larder.port, '/page?x=1', { headers: { host: 'www.example.test' } });
  assert.match(String(again.headers['cache-status']), /hit/);
  assert.equal(origin.count('/page?x=1'), 1);
});

test('the cache key includes the Host: two virtual hosts do not share entries', async () => {
  const a = await viaProxy(larder.port, '/vhost', { headers: { host: 'a.example.test' } });
  const b = await viaProxy(larder.port, '/vhost', { headers: { host: 'b.example.test' } });
  assert.equal(a.body.toString(), 'host=a.example.test path=/vhost');
  assert.equal(b.body.toString(), 'host=b.example.test path=/vhost');
});

test('--upstream-host rewrites the Host sent to the origin', async () => {
  const l = await startTestLarder({ upstream: origin.url, upstreamHost: 'internal.example' });
  const r = await viaProxy(l.port, '/rewrite', { headers: { host: 'public.example' } });
  assert.equal(r.body.toString(), 'host=internal.example path=/rewrite');
  await l.stop();
});

test('both modes at once: absolute-form goes forward, origin-form to the upstream', async () => {
  const f = await viaProxy(larder.port, `${other.url}/x`);
  assert.equal(f.body.toString(), 'forwarded');
  const { stdout } = await exec('curl', ['-sS', `${larder.url}/curl-reverse`]);
  assert.equal(stdout, `host=127.0.0.1:${larder.port} path=/curl-reverse`);
});

test('a reverse-only proxy (--no-forward) refuses absolute-form requests and CONNECT tunnels', async () => {
  const l = await startTestLarder({ upstream: origin.url, forward: false });
  const f = await viaProxy(l.port, `${other.url}/x`);
  assert.equal(f.status, 403);
  assert.equal(other.count('/x'), 1, 'only the earlier forward test reached this origin');
  const raw = await rawExchange(l.port, `CONNECT 127.0.0.1:${other.port} HTTP/1.1\r\nHost: 127.0.0.1:${other.port}\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 405 /);
  assert.match(raw, /Allow: GET/);
  const ok = await viaProxy(l.port, '/still-served', { headers: { host: 'site.example' } });
  assert.equal(ok.status, 200);
  await l.stop();
});

test('a refused CONNECT is logged like any other request', async () => {
  const l = await startTestLarder({ upstream: origin.url, forward: false });
  await rawExchange(l.port, 'CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n');
  const rec = l.records.find((r) => r.method === 'CONNECT');
  assert.ok(rec, 'refused CONNECT not recorded');
  assert.equal(rec.status, 405);
  assert.equal(rec.cache, 'error');
  await l.stop();
});
