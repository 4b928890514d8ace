/**
 * Cache poisoning and cross-client leaks: reflected-header fields are not forwarded by default
 * (stripRequestHeaders), a response to a request with Authorization (RFC 9111 §3.5) or carrying
 * Set-Cookie is not served to another client, the Host header cannot steer the key in forward mode
 * (RFC 9112 §3.2.2: the absolute-form target wins), and in reverse mode an absolute-form request for
 * another host never lands under the reverse key.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, respond, headerNames, headerOf, type RawOrigin } from '../helpers/raw-origin.js';
import { exchange, assertStillServes, targetFor, type Mode } from './support.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

/** An origin whose body names itself and the request path; cacheable for 10 minutes unless /ok. */
async function namedOrigin(name: string, extra: string[] = []): Promise<RawOrigin> {
  const o = await startRawOrigin((s, req) => {
    if (req.target.includes('/after-')) return respond(s, 'ok');
    respond(s, `${name}:${req.target}`, ['Cache-Control: max-age=600', ...extra]);
  });
  cleanup.push(() => o.close());
  return o;
}
async function larder(overrides: Parameters<typeof startTestLarder>[0]): Promise<TestLarder> {
  const l = await startTestLarder(overrides);
  cleanup.push(() => l.stop());
  return l;
}
const get = (port: number, target: string, host: string, extra = '') =>
  exchange(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${extra}\r\n`, 2000);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`[${mode}] reflected-header fields (X-Forwarded-Host, X-Original-URL, ...) are not forwarded by default`, async () => {
    const o = await namedOrigin('o');
    const l = await larder(mode === 'reverse' ? { upstream: o.url } : {});
    const { target, host } = targetFor(mode, o, '/reflect');
    const r = await get(l.port, target, host, 'X-Forwarded-Host: evil.example\r\nX-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\n' +
      'X-HTTP-Method-Override: DELETE\r\nX-Forwarded-Server: evil.example\r\nX-Host: evil.example\r\n');
    assert.equal(r.status, 200);
    const sent = headerNames(o.requests.at(-1)!);
    for (const h of ['x-forwarded-host', 'x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-forwarded-server', 'x-host']) {
      assert.ok(!sent.includes(h), `origin received ${h}`);
    }
    await assertStillServes(l.port, mode, o, 'reflect');
  });

  test(`[${mode}] a response to a request with Authorization is not served to another client`, async () => {
    const o = await namedOrigin('o');
    const l = await larder(mode === 'reverse' ? { upstream: o.url } : {});
    const { target, host } = targetFor(mode, o, '/private-auth');
    const a = await get(l.port, target, host, 'Authorization: Bearer alice-token\r\n');
    assert.equal(a.status, 200);
    const b = await get(l.port, target, host);
    assert.equal(b.status, 200);
    assert.equal(o.count('/private-auth'), 2, 'the second client was served the authorized response from cache');
    await assertStillServes(l.port, mode, o, 'authorization');
  });

  test(`[${mode}] a Set-Cookie response is not served to another client (shareSetCookie off)`, async () => {
    // each response sets a cookie unique to the client it answers
    let n = 0;
    const o = await startRawOrigin((s, req) => {
      if (req.target.includes('/after-')) return respond(s, 'ok');
      n++;
      respond(s, `cookie:${n}`, ['Cache-Control: max-age=600', `Set-Cookie: session=secret-of-client-${n}; Path=/`]);
    });
    cleanup.push(() => o.close());
    const l = await larder(mode === 'reverse' ? { upstream: o.url } : {});
    const { target, host } = targetFor(mode, o, '/cookie');
    const a = await get(l.port, target, host);
    assert.match(a.text, /secret-of-client-1/);
    const b = await get(l.port, target, host);
    assert.equal(b.status, 200);
    assert.ok(!/secret-of-client-1/.test(b.text), 'another client received the first client\'s Set-Cookie');
    assert.equal(o.count('/cookie'), 2);
    await assertStillServes(l.port, mode, o, 'set-cookie');
  });
}

test('[forward] the absolute-form host wins over a differing Host header, for the upstream and for the key', async () => {
  const good = await namedOrigin('good');
  const other = await namedOrigin('other');
  const l = await larder({});
  // the Host header names another origin: the request still goes to (and is keyed by) the target's host
  const a = await get(l.port, `http://${good.host}/page`, other.host);
  assert.equal(bodyOf(a.text), 'good:/page');
  assert.equal(headerOf(good.requests.at(-1)!, 'host'), good.host, 'the origin received the client\'s Host instead of the target\'s');
  assert.equal(other.count('/page'), 0);
  // same URL, honest Host: a hit under the target's key
  const b = await get(l.port, `http://${good.host}/page`, good.host);
  assert.equal(bodyOf(b.text), 'good:/page');
  assert.equal(good.count('/page'), 1);
  // the other origin's URL with Host naming the first: must reach the other origin, not the stored copy
  const c = await get(l.port, `http://${other.host}/page`, good.host);
  assert.equal(bodyOf(c.text), 'other:/page', 'the Host header steered the cache key');
  assert.equal(other.count('/page'), 1);
  await assertStillServes(l.port, 'forward', good, 'host tricks');
});

test('[reverse, forward off] an absolute-form request for another host is refused and not cached under the reverse key', async () => {
  const site = await namedOrigin('site');
  const other = await namedOrigin('other');
  const l = await larder({ upstream: site.url, forward: false });
  const a = await get(l.port, `http://${other.host}/x`, 'site.example');
  assert.equal(a.status, 403);
  assert.equal(other.count('/x'), 0);
  const b = await get(l.port, '/x', 'site.example');
  assert.equal(bodyOf(b.text), 'site:/x');
  await assertStillServes(l.port, 'reverse', site, 'reverse absolute');
});

test('[reverse, forward on] an absolute-form request for another host is keyed by that host, never the reverse key', async () => {
  const site = await namedOrigin('site');
  const other = await namedOrigin('other');
  const l = await larder({ upstream: site.url, forward: true });
  // absolute-form naming the reverse site's public Host, but pointing at another origin
  const a = await get(l.port, `http://${other.host}/y`, 'site.example');
  assert.equal(bodyOf(a.text), 'other:/y');
  const b = await get(l.port, '/y', 'site.example');
  assert.equal(bodyOf(b.text), 'site:/y', 'the forward response was served under the reverse key');
  const c = await get(l.port, `http://site.example/y`, 'site.example');
  assert.ok(bodyOf(c.text) !== 'other:/y', 'the forward response was stored under http://site.example/y');
  await assertStillServes(l.port, 'reverse', site, 'reverse absolute (forward on)');
});
