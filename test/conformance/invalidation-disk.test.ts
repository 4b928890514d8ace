/**
 * RFC 9111 §4.4 on the default tiered LMDB store, with the client and the URLs an external cache test suite
 * uses: undici fetch through a ProxyAgent (forward) or an Agent (reverse), keep-alive, two pooled connections,
 * `/test/<uuid>` paths (URLs of 63+ chars: format 1 of the disk store could not delete those), the request
 * fields `Pragma: foo` and `Cache-Control: nothing-to-see-here`.
 *
 * "A cache MUST invalidate the target URI (Section 7.1 of [HTTP]) when it receives a non-error status code in
 * response to an unsafe request method (including methods whose safety is unknown)." (§4.4)
 * "A 'non-error response' is one with a 2xx (Successful) or 3xx (Redirection) status code." (§4.4)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent, ProxyAgent, fetch, type Dispatcher } from 'undici';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';

let origin: TestOrigin;
const larders = {} as Record<'forward' | 'reverse', TestLarder>;
const agents = {} as Record<'forward' | 'reverse', Dispatcher>;
/** status the origin answers unsafe requests with, per test id */
const unsafeStatus = new Map<string, number>();

before(async () => {
  origin = await startOrigin((req, res, body) => {
    const u = new URL(req.url!, 'http://x');
    if (u.pathname.startsWith('/config/')) { res.writeHead(201, { 'content-length': '0' }); res.end(); return; }
    const id = u.pathname.split('/')[2] ?? '';
    if (req.method === 'GET') {
      res.writeHead(200, { 'Cache-Control': 'max-age=100000', 'Content-Type': 'text/plain', 'Content-Length': String(id.length), 'Request-Num': String(req.headers['req-num']) });
      res.end(id);
      return;
    }
    const status = unsafeStatus.get(id) ?? 200;
    const text = `${req.method} ${body.toString()}`;
    res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': String(text.length) });
    res.end(text);
  });
  larders.forward = await startTestLarder({ disk: true });
  larders.reverse = await startTestLarder({ disk: true, upstream: origin.url });
  agents.forward = new ProxyAgent({ uri: larders.forward.url, proxyTunnel: false, connections: 2 });
  agents.reverse = new Agent({ connections: 2 });
});
after(async () => {
  await Promise.all(Object.values(agents).map((a) => a.close()));
  await larders.forward.stop();
  await larders.reverse.stop();
  await origin.close();
});

function urlFor(mode: 'forward' | 'reverse', path: string): string {
  return mode === 'forward' ? `${origin.url}${path}` : `${larders[mode].url}${path}`;
}

const ODD_FIELDS = { Pragma: 'foo', 'Cache-Control': 'nothing-to-see-here' };

async function get(mode: 'forward' | 'reverse', id: string, n: number) {
  const r = await fetch(urlFor(mode, `/test/${id}`), { dispatcher: agents[mode], headers: { ...ODD_FIELDS, 'Test-ID': id, 'Req-Num': String(n) } });
  const body = await r.text();
  return { status: r.status, body, cacheStatus: r.headers.get('cache-status') ?? '' };
}

/** PUT to another path of the origin, the first GET stored, then the unsafe request: what does the next GET get? */
async function exchange(mode: 'forward' | 'reverse', method: string, status: number) {
  const id = randomUUID();
  unsafeStatus.set(id, status);
  const config = fetch(urlFor(mode, `/config/${id}`), { method: 'PUT', body: '{}', dispatcher: agents[mode] }).then((r) => r.text());
  const first = await get(mode, id, 1);
  await config;
  assert.match(first.cacheStatus, /stored/, 'the first GET is stored');
  const hit = await get(mode, id, 2);
  assert.match(hit.cacheStatus, /hit/, 'and served from the cache');
  const unsafe = await fetch(urlFor(mode, `/test/${id}`), { method, body: 'abc', dispatcher: agents[mode], headers: { 'Test-ID': id, 'Req-Num': '3' } });
  assert.equal(unsafe.status, status);
  assert.equal(await unsafe.text(), `${method} abc`);
  const seenBefore = origin.count(`/test/${id}`);
  const after = await get(mode, id, 4);
  return { after, originSaw: origin.count(`/test/${id}`) - seenBefore };
}

for (const mode of ['forward', 'reverse'] as const) {
  for (const method of ['POST', 'PUT', 'DELETE', 'M-SEARCH']) {
    test(`${mode}: ${method} answered 2xx invalidates the stored GET on the disk store (RFC 9111 §4.4)`, async () => {
      const { after, originSaw } = await exchange(mode, method, 200);
      assert.doesNotMatch(after.cacheStatus, /hit/, `served from the cache after ${method}: ${after.cacheStatus}`);
      assert.equal(originSaw, 1, 'the GET after the unsafe request went to the origin');
    });

    test(`${mode}: ${method} answered 5xx does not invalidate on the disk store (RFC 9111 §4.4)`, async () => {
      const { after, originSaw } = await exchange(mode, method, 503);
      assert.match(after.cacheStatus, /hit/, `not served from the cache after a failed ${method}: ${after.cacheStatus}`);
      assert.equal(originSaw, 0);
    });
  }

  test(`${mode}: a 3xx to an unsafe request invalidates too (RFC 9111 §4.4 "non-error")`, async () => {
    const { after } = await exchange(mode, 'POST', 303);
    assert.doesNotMatch(after.cacheStatus, /hit/);
  });
}
