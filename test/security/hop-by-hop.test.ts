/**
 * Hop-by-hop fields (RFC 9110 §7.6.1) are stripped in both directions, including those named in
 * Connection, and Proxy-Authorization never leaves the proxy; checked on a miss and on a cache hit,
 * in forward and reverse mode.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, respond, headerNames, type RawOrigin } from '../helpers/raw-origin.js';
import { exchange, assertStillServes, targetFor, type Mode } from './support.js';

// the proxy's own Connection on the upstream hop is fine; the client's listed names must not appear in it
const REQUEST_HOP = ['keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'x-conn-listed', 'x-also-listed', 'transfer-encoding'];
const RESPONSE_HOP = ['x-resp-listed', 'proxy-connection', 'proxy-authenticate', 'upgrade', 'trailer'];

let origin: RawOrigin;
const larders: Partial<Record<Mode, TestLarder>> = {};
before(async () => {
  origin = await startRawOrigin((s, req) => {
    if (!req.target.includes('/hop')) return respond(s, 'ok');
    respond(s, 'hop', ['Cache-Control: max-age=600', 'Connection: X-Resp-Listed', 'X-Resp-Listed: secret', 'Keep-Alive: timeout=99',
      'Proxy-Connection: keep-alive', 'Proxy-Authenticate: Basic realm="origin"', 'Upgrade: h2c', 'Trailer: X-T', 'X-End-To-End: kept']);
  });
  larders.forward = await startTestLarder({});
  larders.reverse = await startTestLarder({ upstream: origin.url, forward: false });
});
after(async () => {
  await larders.forward?.stop();
  await larders.reverse?.stop();
  await origin.close();
});

function responseHeaderNames(text: string): string[] {
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head.split('\r\n').slice(1).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
}

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`[${mode}] request hop-by-hop fields and Proxy-Authorization are not forwarded; response hop-by-hop fields are not returned (miss and hit)`, async () => {
    const port = larders[mode]!.port;
    const path = `/hop-${mode}`;
    const { target, host } = targetFor(mode, origin, path);
    const head = `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive, X-Conn-Listed, x-also-listed\r\n` +
      'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nTE: trailers\r\nTrailer: X-T\r\n' +
      'Upgrade: websocket\r\nX-Conn-Listed: 1\r\nX-Also-Listed: 2\r\nX-End-To-End: yes\r\n\r\n';
    for (const round of ['miss', 'hit']) {
      const before = origin.count(path);
      const r = await exchange(port, head, 1500);
      assert.equal(r.status, 200, `${round}: ${JSON.stringify(r.text.slice(0, 200))}`);
      const names = responseHeaderNames(r.text);
      for (const h of RESPONSE_HOP) assert.ok(!names.includes(h), `${round}: response carried ${h}`);
      assert.ok(!/keep-alive: timeout=99/i.test(r.text), `${round}: the origin's Keep-Alive reached the client`);
      assert.ok(!/secret/.test(r.text), `${round}: a Connection-listed response field reached the client`);
      assert.match(r.text, /x-end-to-end: kept/i);
      if (round === 'miss') {
        assert.equal(origin.count(path), before + 1);
        const seen = origin.requests.at(-1)!;
        const sent = headerNames(seen);
        for (const h of REQUEST_HOP) assert.ok(!sent.includes(h), `origin received ${h}`);
        assert.ok(sent.includes('x-end-to-end'));
        const conn = seen.headers.filter(([k]) => k.toLowerCase() === 'connection').map(([, v]) => v.toLowerCase()).join(',');
        assert.ok(!/x-conn-listed|x-also-listed/.test(conn), `origin received Connection: ${conn}`);
      } else {
        assert.equal(origin.count(path), before, 'second request was not a hit');
      }
    }
    await assertStillServes(port, mode, origin, 'hop-by-hop');
  });

  test(`[${mode}] Connection: Upgrade with Upgrade: websocket is not tunnelled to the origin`, async () => {
    const port = larders[mode]!.port;
    const path = `/upgrade-${mode}`;
    const { target, host } = targetFor(mode, origin, path);
    const r = await exchange(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`, 1500);
    assert.ok(!/^HTTP\/1\.1 101/.test(r.text), 'a 101 came back');
    const seen = origin.requests.filter((q) => q.target.endsWith(path));
    for (const q of seen) assert.ok(!headerNames(q).includes('upgrade'), 'Upgrade reached the origin');
    await assertStillServes(port, mode, origin, 'upgrade');
  });
}
