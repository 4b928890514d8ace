/**
 * The cache engine end to end on loopback: a real origin that counts its requests proves hits (zero origin
 * requests), revalidations (a conditional request seen), collapsing and invalidation (RFC 9111, 5861, 9211).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { viaProxy, sleep } from '../helpers/client.js';

type Route = (req: IncomingMessage, res: ServerResponse, n: number) => void | Promise<void>;
const routes = new Map<string, Route>();
const hits = new Map<string, number>();
let origin: TestOrigin;
let larder: TestLarder;
let seq = 0;
/** the engine's clock runs ahead of real time by `skew`: tests age entries with advance() instead of sleeping */
let skew = 0;
const advance = (ms: number) => { skew += ms; };

/** A fresh path with its own handler, so tests never share cache entries. */
function route(handler: Route): string {
  const path = `/t${++seq}`;
  routes.set(path, handler);
  return `${origin.url}${path}`;
}
const count = (url: string) => hits.get(new URL(url).pathname) ?? 0;
const get = (url: string, headers: Record<string, string> = {}, method = 'GET') => viaProxy(larder.port, url, { headers, method });

before(async () => {
  origin = await startOrigin(async (req, res) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const h = routes.get(path);
    if (!h) { res.writeHead(404); res.end(); return; }
    await h(req, res, n);
  });
  larder = await startTestLarder({}, { clock: () => Date.now() + skew });
});
after(async () => {
  await larder.stop();
  await origin.close();
});

test('§4.2 a fresh stored response is served without contacting the origin, with Age and Cache-Status hit', async () => {
  const url = route((_q, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }); res.end(`v${n}`); });
  const a = await get(url);
  assert.equal(a.body.toString(), 'v1');
  // the origin Date has one-second resolution, so the apparent age may already be 1 s (RFC 9111 §4.2.3)
  assert.match(String(a.headers['cache-status']), /^larder; fwd=uri-miss; fwd-status=200; stored; ttl=(59|60)$/);
  const b = await get(url);
  assert.equal(b.body.toString(), 'v1');
  assert.equal(count(url), 1);
  assert.match(String(b.headers['cache-status']), /^larder; hit; ttl=\d+$/);
  assert.ok(b.headers.age !== undefined, 'Age missing on a cached response');
  assert.equal(b.headers['content-length'], '2');
});

test('§4.2.3 Age counts the upstream Age and the time resident', async () => {
  const url = route((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=600', age: '100' }); res.end('x'); });
  await get(url);
  const b = await get(url);
  assert.ok(Number(b.headers.age) >= 100, `Age ${b.headers.age}`);
  assert.match(String(b.headers['cache-status']), /ttl=(499|500)/);
});

test('§3 no-store, private and an unknown status are not stored', async () => {
  for (const headers of [{ 'cache-control': 'no-store, max-age=60' }, { 'cache-control': 'private, max-age=60' }]) {
    const url = route((_q, res) => { res.writeHead(200, headers); res.end('x'); });
    await get(url);
    await get(url);
    assert.equal(count(url), 2, JSON.stringify(headers));
  }
  const odd = route((_q, res) => { res.writeHead(299, { 'last-modified': new Date(Date.now() - 86400e3).toUTCString() }); res.end('x'); });
  await get(odd);
  await get(odd);
  assert.equal(count(odd), 2);
});

test('request no-store is honoured: nothing stored', async () => {
  const url = route((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('x'); });
  await get(url, { 'cache-control': 'no-store' });
  await get(url);
  assert.equal(count(url), 2);
});

test('Set-Cookie responses are not shared unless public; private answers never reach a second client', async () => {
  const url = route((_q, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=60', 'set-cookie': `session=user${n}` }); res.end(`for user${n}`); });
  const a = await get(url);
  assert.equal(a.headers['set-cookie']?.[0], 'session=user1');
  const b = await get(url);
  assert.equal(b.headers['set-cookie']?.[0], 'session=user2', 'another client got the first client\'s cookie');
  assert.equal(count(url), 2);
  const pub = route((_q, res) => { res.writeHead(200, { 'cache-control': 'public, max-age=60', 'set-cookie': 'lang=en' }); res.end('shared'); });
  await get(pub);
  await get(pub);
  assert.equal(count(pub), 1);
});

test('§3.5 responses to Authorization requests are stored only when the response allows it', async () => {
  const plain = route((_q, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end(`secret${n}`); });
  await get(plain, { authorization: 'Bearer alice' });
  const b = await get(plain, { authorization: 'Bearer bob' });
  assert.equal(b.body.toString(), 'secret2');
  const shared = route((_q, res) => { res.writeHead(200, { 'cache-control': 's-maxage=60' }); res.end('ok'); });
  await get(shared, { authorization: 'Bearer alice' });
  await get(shared, { authorization: 'Bearer bob' });
  assert.equal(count(shared), 1);
});

test('§4.3 a stale entry is revalidated with If-None-Match; the 304 updates it and it is served from cache', async () => {
  const url = route((req, res, n) => {
    if (req.headers['if-none-match'] === '"v1"') { res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=0', 'x-version': `updated${n}` }); res.end(); return; }
    res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=0', 'x-version': 'original' });
    res.end('body-v1');
  });
  await get(url);
  const b = await get(url);
  assert.equal(b.body.toString(), 'body-v1');
  assert.equal(origin.requests.at(-1)!.headers['if-none-match'], '"v1"');
  assert.match(String(b.headers['cache-status']), /fwd=stale; fwd-status=304/);
  assert.equal(b.headers['x-version'], 'updated2', '§4.3.4: stored headers updated from the 304');
});

test('§4.3 revalidation with If-Modified-Since; a changed resource replaces the entry', async () => {
  const lm = new Date(Date.now() - 3600e3).toUTCString();
  const url = route((req, res, n) => {
    if (n === 2) {
      assert.equal(req.headers['if-modified-since'], lm);
      res.writeHead(200, { 'last-modified': new Date().toUTCString(), 'cache-control': 'max-age=60' });
      res.end('new');
      return;
    }
    res.writeHead(200, { 'last-modified': lm, 'cache-control': 'no-cache' });
    res.end('old');
  });
  assert.equal((await get(url)).body.toString(), 'old');
  const b = await get(url);
  assert.equal(b.body.toString(), 'new');
  assert.match(String(b.headers['cache-status']), /fwd=stale; fwd-status=200; stored/);
  const c = await get(url);
  assert.equal(c.body.toString(), 'new');
  assert.equal(count(url), 2);
});

test('a client conditional request is answered 304 from a fresh entry', async () => {
  const url = route((_q, res) => { res.writeHead(200, { etag: '"abc"', 'cache-control': 'max-age=60' }); res.end('x'); });
  await get(url);
  const r = await get(url, { 'if-none-match': 'W/"abc", "zzz"' });
  assert.equal(r.status, 304);
  assert.equal(r.headers.etag, '"abc"');
  assert.equal(count(url), 1);
});

test('request Cache-Control: no-cache and max-age=0 force revalidation; only-if-cached gives 504 on a miss', async () => {
  const url = route((_q, res) => { res.writeHead(200, { etag: '"e"', 'cache-control': 'max-age=60' }); res.end('x'); });
  await get(url);
  await get(url, { 'cache-control': 'no-cache' });
  assert.equal(count(url), 2);
  advance(1100); // §5.2.1.1 max-age=0 accepts a response of age 0, so let it age first
  await get(url, { 'cache-control': 'max-age=0' });
  assert.equal(count(url), 3);
  await get(url, { pragma: 'no-cache' });
  assert.equal(count(url), 4);
  const miss = route((_q, res) => { res.writeHead(200); res.end(); });
  const r = await get(miss, { 'cache-control': 'only-if-cached' });
  assert.equal(r.status, 504);
  assert.equal(count(miss), 0);
});

test('§4.1 Vary: variants are stored and selected per request field value', async () => {
  const url = route((req, res) => { res.writeHead(200, { vary: 'Accept-Language', 'cache-control': 'max-age=60' }); res.end(`lang=${req.headers['accept-language']}`); });
  assert.equal((await get(url, { 'accept-language': 'en' })).body.toString(), 'lang=en');
  assert.equal((await get(url, { 'accept-language': 'fr' })).body.toString(), 'lang=fr');
  const en = await get(url, { 'accept-language': 'en' });
  assert.equal(en.body.toString(), 'lang=en');
  assert.match(String(en.headers['cache-status']), /hit/);
  assert.equal((await get(url, { 'accept-language': 'fr' })).body.toString(), 'lang=fr');
  assert.equal(count(url), 2);
  const star = route((_q, res) => { res.writeHead(200, { vary: '*', 'cache-control': 'max-age=60' }); res.end('x'); });
  await get(star);
  await get(star);
  assert.equal(count(star), 2, 'Vary: * was served from cache');
});

test('§4.4 unsafe methods invalidate the target and same-origin Location', async () => {
  const url = route((req, res) => {
    if (req.method === 'POST') { res.writeHead(201, { location: `${new URL(req.url!, 'http://x').pathname}-other` }); res.end(); return; }
    res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('x');
  });
  const other = `${url}-other`;
  routes.set(new URL(other).pathname, (_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('o'); });
  await get(url);
  await get(other);
  await get(url, {}, 'POST');
  await get(url);
  await get(other);
  assert.equal(count(url), 3); // GET, POST, GET again
  assert.equal(count(other), 2);
  // an error response does not invalidate
  const keep = route((req, res) => { if (req.method === 'DELETE') { res.writeHead(500); res.end(); return; } res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('k'); });
  await get(keep);
  await get(keep, {}, 'DELETE');
  await get(keep);
  assert.equal(count(keep), 2);
});

test('RFC 5861 stale-while-revalidate serves stale at once and refreshes once in the background', async () => {
  // the origin's Date follows the engine's clock, so the refreshed response is fresh when it arrives
  const url = route(async (_q, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=1, stale-while-revalidate=60', date: new Date(Date.now() + skew).toUTCString() }); res.end(`v${n}`); });
  await get(url);
  advance(2100);
  const stale = await Promise.all([get(url), get(url), get(url)]);
  // the first is served stale at once; the refresh may land before the others are looked up
  assert.equal(stale[0]!.body.toString(), 'v1');
  for (const s of stale) assert.match(s.body.toString(), /^v[12]$/);
  assert.match(String(stale[0]!.headers['cache-status']), /detail=stale-while-revalidate/);
  // the background refresh has no client: wait for the origin to see it, then a moment for the store commit
  for (let i = 0; i < 200 && count(url) < 2; i++) await sleep(5);
  await sleep(50);
  assert.equal(count(url), 2, 'background refresh happened exactly once');
  assert.equal((await get(url)).body.toString(), 'v2');
});

test('RFC 5861 stale-if-error serves stale when the origin fails; must-revalidate never serves stale', async () => {
  const url = route((_q, res, n) => {
    if (n > 1) { res.writeHead(503); res.end('down'); return; }
    res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=60' }); res.end('good');
  });
  await get(url);
  advance(1100);
  const r = await get(url);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'good');
  assert.match(String(r.headers['cache-status']), /detail=stale-if-error/);

  const strict = route((_q, res, n) => {
    if (n > 1) { res.writeHead(500); res.end('down'); return; }
    res.writeHead(200, { 'cache-control': 'max-age=1, must-revalidate', etag: '"m"' }); res.end('good');
  });
  await get(strict);
  advance(1100);
  // the origin's 500 is a real answer and goes to the client as it is (RFC 9111 §4.2.4), never the stale body
  const failed = await get(strict);
  assert.equal(failed.status, 500);
  assert.equal(failed.body.toString(), 'down');
});

test('§4.2.4 must-revalidate and the origin unreachable: 504, not the stale body', async () => {
  const gone = await startOrigin((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=1, must-revalidate' }); res.end('good'); });
  const url = `${gone.url}/mr`;
  await viaProxy(larder.port, url);
  await gone.close();
  advance(1100);
  const r = await viaProxy(larder.port, url);
  assert.equal(r.status, 504);
  assert.doesNotMatch(r.body.toString(), /good/);
});

test('collapsing: 200 concurrent requests for one slow URL reach the origin once', async () => {
  const url = route(async (_q, res) => { await sleep(300); res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('slow'); });
  const results = await Promise.all(Array.from({ length: 200 }, () => get(url)));
  for (const r of results) assert.equal(r.body.toString(), 'slow');
  assert.equal(count(url), 1);
  assert.ok(results.some((r) => /collapsed/.test(String(r.headers['cache-status']))));
});

test('collapsing never shares a private answer: followers go upstream on their own', async () => {
  const url = route(async (_q, res, n) => { await sleep(200); res.writeHead(200, { 'cache-control': 'private' }); res.end(`user${n}`); });
  const results = await Promise.all(Array.from({ length: 5 }, () => get(url)));
  assert.equal(new Set(results.map((r) => r.body.toString())).size, 5);
  assert.equal(count(url), 5);
});

test('HEAD is answered from a stored GET', async () => {
  const url = route((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }); res.end('0123456789'); });
  await get(url);
  const h = await get(url, {}, 'HEAD');
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-length'], '10');
  assert.equal(h.body.length, 0);
  assert.equal(count(url), 1);
});

test('ranges from a stored 200: 206 single, multipart, 416, If-Range', async () => {
  const url = route((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60', etag: '"r1"', 'content-type': 'text/plain' }); res.end('0123456789'); });
  await get(url);
  const one = await get(url, { range: 'bytes=2-4' });
  assert.equal(one.status, 206);
  assert.equal(one.body.toString(), '234');
  assert.equal(one.headers['content-range'], 'bytes 2-4/10');
  const suffix = await get(url, { range: 'bytes=-3' });
  assert.equal(suffix.body.toString(), '789');
  const multi = await get(url, { range: 'bytes=0-1,8-9' });
  assert.equal(multi.status, 206);
  assert.match(String(multi.headers['content-type']), /^multipart\/byteranges; boundary=/);
  assert.match(multi.body.toString(), /01[\s\S]*89/);
  const bad = await get(url, { range: 'bytes=50-60' });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], 'bytes */10');
  const ifr = await get(url, { range: 'bytes=0-0', 'if-range': '"other"' });
  assert.equal(ifr.status, 200);
  assert.equal(ifr.body.toString(), '0123456789');
  assert.equal(count(url), 1);
});

test('responses larger than --max-object-size stream through uncached', async () => {
  const small = await startTestLarder({ maxObjectSize: 1000 });
  const url = route((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('y'.repeat(5000)); });
  const a = await viaProxy(small.port, url);
  assert.equal(a.body.length, 5000);
  const b = await viaProxy(small.port, url);
  assert.equal(b.body.length, 5000);
  assert.equal(count(url), 2);
  await small.stop();
});

test('heuristic freshness from Last-Modified makes a validator-only response reusable', async () => {
  const url = route((_q, res) => { res.writeHead(200, { 'last-modified': new Date(Date.now() - 10 * 86400e3).toUTCString() }); res.end('h'); });
  await get(url);
  const b = await get(url);
  assert.match(String(b.headers['cache-status']), /hit/);
  assert.equal(count(url), 1);
});

test('PURGE from loopback removes every variant of a URL', async () => {
  const url = route((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('p'); });
  await get(url);
  const p = await get(url, {}, 'PURGE');
  assert.equal(p.status, 200);
  assert.equal(JSON.parse(p.body.toString()).purged, 1);
  await get(url);
  assert.equal(count(url), 2);
});
