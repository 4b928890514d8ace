/**
 * Requests refused before anything goes upstream, and fields never forwarded (issue 12 items 10, 12):
 * - a request line with any version but HTTP/1.0 and HTTP/1.1 gets 505 (RFC 9110 §15.6.6);
 * - a GET or HEAD with a body gets 400: the body is not part of the cache key, so one client's body
 *   could otherwise pick the answer stored for everyone;
 * - Forwarded, X-Forwarded-Proto/-Scheme/-Port/-Prefix and X-Original-Host (reflected into URLs by many
 *   frameworks: cache poisoning) are stripped by default, and a client's own X-Forwarded-For is not
 *   passed on when xForwardedFor is off (it would let a client pose as another address upstream).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, respond, headerNames, type RawOrigin } from '../helpers/raw-origin.js';
import { exchange, assertStillServes, targetFor, type Mode } from './support.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function setup(mode: Mode, overrides: Parameters<typeof startTestLarder>[0] = {}): Promise<{ l: TestLarder; o: RawOrigin }> {
  const o = await startRawOrigin((s, req) => respond(s, req.target.includes('/after-') ? 'ok' : `origin:${req.target}`, ['Cache-Control: max-age=600']));
  const l = await startTestLarder({ ...overrides, ...(mode === 'reverse' ? { upstream: o.url } : {}) });
  cleanup.push(() => o.close(), () => l.stop());
  return { l, o };
}

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`[${mode}] a request line with a version other than HTTP/1.0 or HTTP/1.1 gets 505 and is never forwarded`, async () => {
    const { l, o } = await setup(mode);
    for (const version of ['HTTP/2.0', 'HTTP/0.9', 'HTTP/1.2', 'HTTP/3.0', 'HTTP/2.1']) {
      const { target, host } = targetFor(mode, o, '/version');
      const r = await exchange(l.port, `GET ${target} ${version}\r\nHost: ${host}\r\n\r\n`, 2000);
      assert.equal(r.status, 505, `${version}: ${JSON.stringify(r.text.slice(0, 200))}`);
      assert.ok(r.closed, `${version}: connection left open`);
    }
    assert.equal(o.count('/version'), 0, 'a request with an unsupported version reached the origin');
    await assertStillServes(l.port, mode, o, 'version');
  });

  test(`[${mode}] a GET or HEAD with a body gets 400 and is never forwarded`, async () => {
    const { l, o } = await setup(mode);
    const { target, host } = targetFor(mode, o, '/with-body');
    const cases = [
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\nhello`,
      `HEAD ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 5\r\n\r\nhello`,
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    ];
    for (const c of cases) {
      const r = await exchange(l.port, c, 2000);
      assert.equal(r.status, 400, `${JSON.stringify(c.slice(0, 60))}: ${JSON.stringify(r.text.slice(0, 200))}`);
      if (!c.startsWith('HEAD')) assert.match(r.text, /request body/); // a HEAD answer has no body
    }
    assert.equal(o.count('/with-body'), 0, 'a GET/HEAD with a body reached the origin');
    // Content-Length: 0 is no body
    const ok = await exchange(l.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, 2000);
    assert.equal(ok.status, 200);
    await assertStillServes(l.port, mode, o, 'get with body');
  });

  test(`[${mode}] Forwarded, X-Forwarded-Proto/-Scheme/-Port/-Prefix, X-Original-Host and the client's X-Forwarded-For are not forwarded by default`, async () => {
    const { l, o } = await setup(mode);
    const { target, host } = targetFor(mode, o, '/fwd');
    const r = await exchange(l.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nForwarded: for=1.2.3.4;host=evil.example;proto=https\r\n` +
      'X-Forwarded-Proto: https\r\nX-Forwarded-Scheme: https\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Prefix: /evil\r\n' +
      'X-Original-Host: evil.example\r\nX-Forwarded-For: 10.9.8.7\r\nConnection: close\r\n\r\n', 2000);
    assert.equal(r.status, 200);
    const sent = headerNames(o.requests.at(-1)!);
    for (const h of ['forwarded', 'x-forwarded-proto', 'x-forwarded-scheme', 'x-forwarded-port', 'x-forwarded-prefix', 'x-original-host', 'x-forwarded-for']) {
      assert.ok(!sent.includes(h), `origin received ${h}`);
    }
    await assertStillServes(l.port, mode, o, 'forwarded headers');
  });
}

test('[forward] with xForwardedFor on, the client address is appended once to the chain it sent', async () => {
  const { l, o } = await setup('forward', { xForwardedFor: true });
  const r = await exchange(l.port, `GET http://${o.host}/xff HTTP/1.1\r\nHost: ${o.host}\r\nX-Forwarded-For: 10.9.8.7\r\nConnection: close\r\n\r\n`, 2000);
  assert.equal(r.status, 200);
  const xff = o.requests.at(-1)!.headers.filter(([k]) => k.toLowerCase() === 'x-forwarded-for').map(([, v]) => v);
  assert.deepEqual(xff, ['10.9.8.7, 127.0.0.1']);
});
