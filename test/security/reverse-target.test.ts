/**
 * Reverse mode stays on its upstream (issue 12 item 1, item 10 last bullet): an origin-form target is
 * joined as text onto the configured upstream, so "//other-host/x" or "/\other-host/x" cannot reach
 * another authority (the cloud metadata address, an attacker's server) and have its reply stored as
 * http://<site>/x; a target of no request-target form is a 400; a Host header that fails validation
 * is refused, not silently replaced in the key while the upstream gets it; and the destination rules
 * apply in reverse mode too.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, respond, type RawOrigin } from '../helpers/raw-origin.js';
import { exchange, assertStillServes } from './support.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

/** An origin whose body names itself and the path it was asked for; cacheable for 10 minutes. */
async function namedOrigin(name: string): Promise<RawOrigin> {
  const o = await startRawOrigin((s, req) => {
    if (req.target.includes('/after-')) return respond(s, 'ok');
    respond(s, `${name}:${req.target}`, ['Cache-Control: max-age=600']);
  });
  cleanup.push(() => o.close());
  return o;
}
async function larder(overrides: Parameters<typeof startTestLarder>[0]): Promise<TestLarder> {
  const l = await startTestLarder(overrides);
  cleanup.push(() => l.stop());
  return l;
}
const raw = (port: number, line: string, host = 'site.example') =>
  exchange(port, `${line}\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 2000);
const bodyOf = (text: string) => text.slice(text.indexOf('\r\n\r\n') + 4);

test('[reverse] a target starting with // stays on the upstream: another origin gets nothing and /x is not poisoned', async () => {
  const site = await namedOrigin('site');
  const evil = await namedOrigin('evil');
  const l = await larder({ upstream: site.url });
  for (const target of [`//127.0.0.1:${evil.port}/x`, `//${evil.host}/x?q=1`, `///127.0.0.1:${evil.port}/x`, `/..//127.0.0.1:${evil.port}/x`, '//169.254.169.254/latest/meta-data/']) {
    const r = await raw(l.port, `GET ${target} HTTP/1.1`);
    assert.ok(!bodyOf(r.text).startsWith('evil:'), `${target} reached the other origin: ${JSON.stringify(r.text.slice(0, 200))}`);
    assert.equal(r.status, 200, `${target}: ${JSON.stringify(r.text.slice(0, 200))}`);
    assert.match(bodyOf(r.text), /^site:\/\//, `${target} was not sent to the upstream as a path`);
  }
  assert.equal(evil.requests.length, 0, `the other origin received ${JSON.stringify(evil.requests.map((q) => q.target))}`);
  const x = await raw(l.port, 'GET /x HTTP/1.1');
  assert.equal(bodyOf(x.text), 'site:/x', '/x was served from a poisoned entry');
  await assertStillServes(l.port, 'reverse', site, 'double slash');
});

test('[reverse] targets of no request-target form get 400 (backslash, authority-form on GET, * on GET) and reach no origin', async () => {
  const site = await namedOrigin('site');
  const evil = await namedOrigin('evil');
  const l = await larder({ upstream: site.url });
  for (const line of [`GET /\\127.0.0.1:${evil.port}/x HTTP/1.1`, `GET /\\\\127.0.0.1:${evil.port}/x HTTP/1.1`, `GET /a\\..\\..\\x HTTP/1.1`,
    `GET 127.0.0.1:${evil.port} HTTP/1.1`, 'GET * HTTP/1.1', `GET 127.0.0.1:${evil.port}/x HTTP/1.1`]) {
    const r = await raw(l.port, line);
    assert.equal(r.status, 400, `${line}: ${JSON.stringify(r.text.slice(0, 200))}`);
    assert.ok(r.closed, `${line}: connection left open after the 400`);
  }
  assert.equal(evil.requests.length, 0, `the other origin received ${JSON.stringify(evil.requests.map((q) => q.target))}`);
  assert.equal(site.requests.length, 0, `the upstream received ${JSON.stringify(site.requests.map((q) => q.target))}`);
  const x = await raw(l.port, 'GET /x HTTP/1.1');
  assert.equal(bodyOf(x.text), 'site:/x');
  await assertStillServes(l.port, 'reverse', site, 'bad targets');
});

test('[reverse] an upstream with a base path: targets are joined under it and dot segments cannot climb out', async () => {
  const site = await namedOrigin('site');
  const l = await larder({ upstream: `${site.url}/base/` });
  const a = await raw(l.port, 'GET /x?y=1 HTTP/1.1');
  assert.equal(bodyOf(a.text), 'site:/base/x?y=1');
  const b = await raw(l.port, 'GET /../../secret HTTP/1.1');
  assert.equal(bodyOf(b.text), 'site:/base/secret', 'a dot segment climbed out of the base path');
  const c = await raw(l.port, 'GET /%2e%2e/secret2 HTTP/1.1');
  assert.equal(bodyOf(c.text), 'site:/base/secret2', 'an encoded dot segment climbed out of the base path');
});

test('[reverse] a Host header that fails validation is refused with 400 and not sent upstream', async () => {
  const site = await namedOrigin('site');
  const l = await larder({ upstream: site.url });
  for (const host of ['site.example/x', 'evil.example@site.example', 'site.example x', 'a"b', 'site.example:80:80', '<script>']) {
    const r = await raw(l.port, 'GET /h HTTP/1.1', host);
    assert.equal(r.status, 400, `Host ${JSON.stringify(host)}: ${JSON.stringify(r.text.slice(0, 200))}`);
  }
  assert.equal(site.count('/h'), 0, 'a request with an invalid Host reached the upstream');
  // valid spellings still work, and each Host is its own key
  for (const host of ['site.example', 'site.example:8080', '[::1]:8080', '127.0.0.1', 'a_b.example']) {
    const r = await raw(l.port, 'GET /h HTTP/1.1', host);
    assert.equal(r.status, 200, `Host ${JSON.stringify(host)}: ${JSON.stringify(r.text.slice(0, 200))}`);
  }
  assert.equal(site.count('/h'), 5);
  await assertStillServes(l.port, 'reverse', site, 'invalid host');
});

test('[reverse] the destination rules apply in reverse mode too (an upstream in denyHosts is refused, 403)', async () => {
  const site = await namedOrigin('site');
  const l = await larder({ upstream: site.url, denyHosts: ['127.0.0.1'] });
  const r = await raw(l.port, 'GET /denied HTTP/1.1');
  assert.equal(r.status, 403, JSON.stringify(r.text.slice(0, 200)));
  assert.match(r.text, /denied pattern 127\.0\.0\.1/);
  assert.equal(site.count('/denied'), 0);
});
