/**
 * The fast hit path answers exactly as the slow path would: the same bytes (Age, and the ttl that follows
 * from it, aside) for every kind of stored entry and request it takes, on the memory and the disk store, in
 * forward and reverse mode; and it never answers what the slow path must decide (conditionals, request
 * directives, Vary, stale entries, invalidated or purged entries).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => { for (const c of cleanup.reverse()) await c(); });

/** Responses of one request written on a fresh connection, raw, until the server has sent `count` of them or closed. */
async function raw(port: number, request: string, expect = 1): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  let text = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => { text += d; });
  s.write(request);
  const deadline = Date.now() + 5000;
  const complete = () => {
    let n = 0;
    let at = 0;
    for (;;) {
      const head = text.indexOf('\r\n\r\n', at);
      if (head === -1) return false;
      const m = /\r\ncontent-length: (\d+)\r\n/i.exec(text.slice(at, head + 2));
      const isHead = /^HEAD /.test(request.split('\r\n\r\n')[n] ?? '');
      const end = head + 4 + (m && !isHead ? Number(m[1]) : 0);
      if (text.length < end) return false;
      n++;
      at = end;
      if (n >= expect) return true;
    }
  };
  while (!complete() && Date.now() < deadline && !s.destroyed) await new Promise((r) => setTimeout(r, 5));
  s.destroy();
  return text;
}

/** Age, and the ttl computed from it, differ by the second a request arrived in. */
const normalise = (t: string) => t.replace(/\r\nAge: \d+/g, '\r\nAge: N').replace(/ttl=-?\d+/g, 'ttl=N');

function origin(): Promise<TestOrigin> {
  // one Date for both proxies' copies (each proxy's miss may fall in another second)
  const date = new Date().toUTCString();
  return startOrigin((req, res) => {
    res.setHeader('Date', date);
    const path = req.url!.replace(/^http:\/\/[^/]+/, '');
    if (path.startsWith('/plain')) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'max-age=600', ETag: '"v1"', 'X-Custom': 'a  b' });
      res.end('plain body');
    } else if (path.startsWith('/upstream-cache')) {
      res.writeHead(200, { 'Cache-Control': 'public, max-age=600', Via: '1.1 origin-cache', 'Cache-Status': 'origin-cache; hit', 'Set-Cookie': 'a=b' });
      res.end('x'.repeat(20_000));
    } else if (path.startsWith('/rule/')) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Last-Modified': new Date(Date.now() - 86_400_000).toUTCString() });
      res.end(Buffer.alloc(3000, 1));
    } else if (path.startsWith('/empty')) {
      res.writeHead(200, { 'Cache-Control': 'max-age=600', 'Content-Length': '0' });
      res.end();
    } else if (path.startsWith('/missing')) {
      res.writeHead(404, { 'Cache-Control': 'max-age=600', 'Content-Type': 'text/html' });
      res.end('<p>gone</p>');
    } else if (path.startsWith('/vary')) {
      res.writeHead(200, { 'Cache-Control': 'max-age=600', Vary: 'Accept-Encoding' });
      res.end('varied');
    } else if (path.startsWith('/short')) {
      res.writeHead(200, { 'Cache-Control': 'max-age=1', Date: new Date().toUTCString() });
      res.end(`short ${Date.now()}`);
    } else {
      res.writeHead(200, { 'Cache-Control': 'max-age=600' });
      res.end(`other ${req.method} ${path}`);
    }
  });
}

/**
 * Request `request` until the fast path answers it (at most 8 times): a miss stores the entry and a
 * slow-path hit prepares it, but a disk store's commit can make a hit wait (read-your-writes) one more time.
 */
async function warmFast(l: TestLarder, request: string, expect = 1): Promise<string> {
  for (let i = 0; i < 8; i++) {
    const before = l.fastPath.served;
    const text = await raw(l.port, request, expect);
    if (l.fastPath.served > before) return text;
  }
  assert.fail(`the fast path never answered ${JSON.stringify(request)}`);
}

async function pair(disk: boolean, extra: Parameters<typeof startTestLarder>[0] = {}): Promise<{ o: TestOrigin; fast: TestLarder; slow: TestLarder }> {
  const o = await origin();
  const base = { upstream: o.url, disk, rules: [{ name: 'debs', pattern: '/rule/.*\\.deb$', min: '1h' }], ...extra };
  const fast = await startTestLarder({ ...base });
  const slow = await startTestLarder({ ...base, fastPath: false });
  cleanup.push(() => fast.stop(), () => slow.stop(), () => o.close());
  return { o, fast, slow };
}

for (const disk of [false, true]) {
  const store = disk ? 'disk' : 'memory';

  test(`[${store}] the fast path sends the slow path's bytes, Age aside, for every entry and request it answers`, async () => {
    const { fast, slow } = await pair(disk);
    const cases: { path: string; requests: string[] }[] = [];
    for (const path of ['/plain?q=1', '/upstream-cache', '/rule/pkg.deb', '/empty', '/missing']) {
      cases.push({ path, requests: [`GET ${path} HTTP/1.1\r\n@HOST@User-Agent: t\r\n\r\n`] });
      cases.push({ path, requests: [`HEAD ${path} HTTP/1.1\r\n@HOST@\r\n`] });
      cases.push({ path, requests: [`GET ${path} HTTP/1.1\r\n@HOST@Connection: close\r\n\r\n`] });
      cases.push({ path, requests: [`GET ${path} HTTP/1.1\r\n@HOST@\r\nGET ${path} HTTP/1.1\r\n@HOST@Accept: */*\r\n\r\n`] });
    }
    const before = fast.fastPath.served;
    for (const { path, requests } of cases) {
      await warmFast(fast, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${fast.port}\r\n\r\n`);
      for (let i = 0; i < 2; i++) await raw(slow.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${slow.port}\r\n\r\n`);
      for (const r of requests) {
        const n = r.split('\r\n\r\n').length - 1;
        // (answered by the fast path: retried while an asynchronous commit replaced the prepared entry)
        const a = await warmFast(fast, r.replaceAll('@HOST@', `Host: 127.0.0.1:${fast.port}\r\n`), n);
        const b = await raw(slow.port, r.replaceAll('@HOST@', `Host: 127.0.0.1:${slow.port}\r\n`), n);
        assert.equal(normalise(a), normalise(b), `${path}: ${JSON.stringify(r)}`);
        assert.match(a, /Cache-Status: [^\r]*larder; hit/);
      }
    }
    assert.ok(fast.fastPath.served - before >= cases.length, `fast path answered ${fast.fastPath.served - before} of at least ${cases.length}`);
    assert.equal(slow.fastPath.served, 0);
  });

  test(`[${store}] forward mode: absolute-form hits take the fast path with the same bytes`, async () => {
    const { o, fast, slow } = await pair(disk, { upstream: undefined });
    const before = fast.fastPath.served;
    for (const path of ['/plain', '/missing', '/upstream-cache']) {
      const req = `GET ${o.url}${path} HTTP/1.1\r\nHost: ${o.host}\r\n\r\n`;
      await warmFast(fast, req);
      for (let i = 0; i < 2; i++) await raw(slow.port, req);
      assert.equal(normalise(await warmFast(fast, req)), normalise(await raw(slow.port, req)), path);
    }
    assert.ok(fast.fastPath.served - before >= 6);
  });

  test(`[${store}] what the slow path must decide never takes the fast path`, async () => {
    const { o, fast } = await pair(disk);
    const h = `Host: 127.0.0.1:${fast.port}\r\n`;
    await warmFast(fast, `GET /plain HTTP/1.1\r\n${h}\r\n`);
    const served = fast.fastPath.served;
    for (const extra of ['If-None-Match: "v1"\r\n', 'Range: bytes=0-1\r\n', 'Cache-Control: no-cache\r\n', 'Pragma: no-cache\r\n', 'Authorization: Basic eDp5\r\n']) {
      const text = await raw(fast.port, `GET /plain HTTP/1.1\r\n${h}${extra}\r\n`);
      assert.match(text, /^HTTP\/1\.1 (200|206|304)/, extra);
      assert.equal(fast.fastPath.served, served, `${extra.trim()} went to the slow path`);
    }
    // Vary: never prepared
    for (let i = 0; i < 4; i++) await raw(fast.port, `GET /vary HTTP/1.1\r\n${h}\r\n`);
    assert.equal(fast.fastPath.served, served);
    // stale: max-age=1, then two seconds later the slow path revalidates
    await warmFast(fast, `GET /short HTTP/1.1\r\n${h}\r\n`);
    const n = o.count('/short');
    await new Promise((r) => setTimeout(r, 2100));
    await raw(fast.port, `GET /short HTTP/1.1\r\n${h}\r\n`);
    assert.equal(o.count('/short'), n + 1, 'a stale entry goes upstream');
    // invalidation: a POST to the URL drops what was prepared (RFC 9111 §4.4)
    await warmFast(fast, `GET /plain HTTP/1.1\r\n${h}\r\n`);
    const origins = o.count('/plain');
    await raw(fast.port, `POST /plain HTTP/1.1\r\n${h}Content-Length: 1\r\n\r\nx`);
    await raw(fast.port, `GET /plain HTTP/1.1\r\n${h}\r\n`);
    assert.equal(o.count('/plain'), origins + 2, 'after the POST, the GET went to the origin');
    // purge
    await warmFast(fast, `GET /plain HTTP/1.1\r\n${h}\r\n`);
    assert.match(await raw(fast.port, `PURGE /plain HTTP/1.1\r\n${h}\r\n`), /^HTTP\/1\.1 200/);
    const beforePurge = o.count('/plain');
    await raw(fast.port, `GET /plain HTTP/1.1\r\n${h}\r\n`);
    assert.equal(o.count('/plain'), beforePurge + 1, 'after PURGE, the GET went to the origin');
  });
}

test('with --no-fast-path every request goes through node:http', async () => {
  const { slow } = await pair(false);
  const h = `Host: 127.0.0.1:${slow.port}\r\n`;
  for (let i = 0; i < 4; i++) assert.match(await raw(slow.port, `GET /plain HTTP/1.1\r\n${h}\r\n`), /^HTTP\/1\.1 200/);
  assert.equal(slow.fastPath.served, 0);
});

test('a target the slow path never saw is routed by the router itself: served fast, and as the slow path would', async () => {
  const { fast, slow } = await pair(false);
  for (const l of [fast, slow]) await raw(l.port, `GET /plain HTTP/1.1\r\nHost: 127.0.0.1:${l.port}\r\n\r\n`); // stored, prepared at commit
  await raw(slow.port, `GET /plain HTTP/1.1\r\nHost: 127.0.0.1:${slow.port}\r\n\r\n`);
  // "/%70lain" is "/plain" (RFC 3986 §6.2.2.2): the same cache key, a request line nobody sent before
  const before = fast.fastPath.served;
  const a = await raw(fast.port, `GET /%70lain HTTP/1.1\r\nHost: 127.0.0.1:${fast.port}\r\n\r\n`);
  assert.equal(fast.fastPath.served, before + 1, 'answered by the fast path on its first sight');
  const b = await raw(slow.port, `GET /%70lain HTTP/1.1\r\nHost: 127.0.0.1:${slow.port}\r\n\r\n`);
  assert.equal(normalise(a), normalise(b));
  // a target the router refuses is never answered by the fast path (node:http and the router answer it)
  const refused = await raw(fast.port, `GET /a/../../x HTTP/1.1\r\nHost: bad_host!\r\n\r\n`);
  assert.match(refused, /^HTTP\/1\.1 400/);
});
