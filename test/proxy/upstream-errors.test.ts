/** Misbehaving origins on purpose: each failure gets the right status, a reason, and never a body that looks complete. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { viaProxy, rawExchange, sleep } from '../helpers/client.js';

/** A raw TCP origin that does whatever `behave` says with each connection. */
async function rawOrigin(behave: (s: net.Socket, request: string) => void): Promise<{ port: number; close(): Promise<void>; hits: number }> {
  const sockets = new Set<net.Socket>();
  const state = { hits: 0 };
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n\r\n')) { state.hits++; behave(s, buf); buf = ''; }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get hits() { return state.hits; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

let larder: TestLarder;
before(async () => {
  larder = await startTestLarder({ upstreamTimeout: 800, idleTimeout: 800, connectTimeout: 800 });
});
after(async () => { await larder.stop(); });

test('connection refused gives 502 naming the cause and the URL', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  const r = await viaProxy(larder.port, `http://127.0.0.1:${port}/gone`);
  assert.equal(r.status, 502);
  assert.match(r.body.toString(), /refused/);
  assert.match(r.body.toString(), new RegExp(`127\\.0\\.0\\.1:${port}/gone`));
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
  assert.match(String(r.headers['cache-status']), /detail=connect-refused/);
  // the README's Cache-Status table shows this exact value
  assert.equal(r.headers['cache-status'], 'larder; fwd=uri-miss; detail=connect-refused');
});

test('an origin that never answers gives 504 after --upstream-timeout', async () => {
  const o = await rawOrigin(() => undefined);
  const started = Date.now();
  const r = await viaProxy(larder.port, `http://127.0.0.1:${o.port}/stall`);
  assert.equal(r.status, 504);
  assert.match(r.body.toString(), /no response head/);
  assert.ok(Date.now() - started < 5000);
  await o.close();
});

test('garbage instead of a status line gives 502 (invalid response)', async () => {
  const o = await rawOrigin((s) => s.end('SPLAT this is not http\r\n\r\n'));
  const r = await viaProxy(larder.port, `http://127.0.0.1:${o.port}/garbage`);
  assert.equal(r.status, 502);
  assert.match(r.body.toString(), /invalid response|closed or reset/);
  await o.close();
});

test('reset before the head gives 502', async () => {
  const o = await rawOrigin((s) => s.resetAndDestroy());
  const r = await viaProxy(larder.port, `http://127.0.0.1:${o.port}/reset`);
  assert.equal(r.status, 502);
  await o.close();
});

test('reset mid-body closes the client connection instead of completing the body, and nothing is cached', async () => {
  const o = await rawOrigin((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nCache-Control: max-age=600\r\n\r\n');
    s.write('x'.repeat(400));
    setTimeout(() => s.resetAndDestroy(), 50);
  });
  const url = `http://127.0.0.1:${o.port}/cut`;
  const raw = await rawExchange(larder.port, `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 200/);
  const body = raw.split('\r\n\r\n')[1]!;
  assert.ok(body.length < 1000, 'the client received a complete-looking body');
  // the truncated response must not be served from cache: the next request goes upstream again
  const hitsBefore = o.hits;
  await rawExchange(larder.port, `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
  assert.equal(o.hits, hitsBefore + 1);
  await o.close();
});

test('truncated chunked body is never cached and the client connection is cut', async () => {
  const o = await rawOrigin((s) => {
    s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Control: max-age=600\r\n\r\n5\r\nhello\r\n');
    setTimeout(() => s.destroy(), 50);
  });
  const url = `http://127.0.0.1:${o.port}/chunks`;
  const raw = await rawExchange(larder.port, `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
  assert.ok(!raw.endsWith('0\r\n\r\n'), 'the proxy terminated a truncated chunked body as if it were complete');
  await rawExchange(larder.port, `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\n\r\n`);
  assert.equal(o.hits, 2);
  await o.close();
});

test('a body that stalls past --idle-timeout is cut, and the proxy keeps serving others', async () => {
  const o = await rawOrigin((s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
  });
  const raw = await rawExchange(larder.port, `GET http://127.0.0.1:${o.port}/idle HTTP/1.1\r\nHost: x\r\n\r\n`, 4000);
  assert.match(raw, /^HTTP\/1\.1 200/);
  assert.ok(raw.split('\r\n\r\n')[1]!.length < 100);
  const ok = await rawOrigin((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const r = await viaProxy(larder.port, `http://127.0.0.1:${ok.port}/fine`);
  assert.equal(r.body.toString(), 'ok');
  await o.close();
  await ok.close();
});

test('short Content-Length (origin closes early) is not passed off as complete', async () => {
  const o = await rawOrigin((s) => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\nCache-Control: max-age=60\r\n\r\nonly-a-bit'); });
  const raw = await rawExchange(larder.port, `GET http://127.0.0.1:${o.port}/short HTTP/1.1\r\nHost: x\r\n\r\n`);
  if (raw.startsWith('HTTP/1.1 200')) assert.ok(raw.split('\r\n\r\n')[1]!.length < 50);
  else assert.match(raw, /^HTTP\/1\.1 502/);
  await rawExchange(larder.port, `GET http://127.0.0.1:${o.port}/short HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.equal(o.hits, 2, 'a short body was cached');
  await o.close();
});

test('malformed requests get 400 and the connection is closed; the next client is served', async () => {
  const cases = [
    'GARBAGE\r\n\r\n',
    'GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    'GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n',
    'GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    'GET http://127.0.0.1:1/ HTTP/1.1\r\n\r\n',
  ];
  for (const c of cases) {
    const raw = await rawExchange(larder.port, c);
    assert.match(raw, /^HTTP\/1\.1 400 /, JSON.stringify(c));
    assert.match(raw, /Cache-Status: larder; fwd=bypass/i);
  }
  const ok = await rawOrigin((s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const r = await viaProxy(larder.port, `http://127.0.0.1:${ok.port}/after`);
  assert.equal(r.status, 200);
  await ok.close();
});

test('a request head larger than --max-header-size gets 431', async () => {
  const raw = await rawExchange(larder.port, `GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 431 /);
  await sleep(10);
});

test('--max-request-body: 413 for a Content-Length over the limit and for a chunked body that grows past it', async () => {
  const { startOrigin } = await import('../helpers/origin.js');
  const origin = await startOrigin((_q, res, body) => { res.writeHead(200); res.end(`got ${body.length}`); });
  const l = await startTestLarder({ maxRequestBody: 1000 });
  const small = await viaProxy(l.port, `${origin.url}/up`, { method: 'POST', body: 'x'.repeat(500) });
  assert.equal(small.body.toString(), 'got 500');
  const big = await viaProxy(l.port, `${origin.url}/up`, { method: 'POST', body: 'x'.repeat(5000) });
  assert.equal(big.status, 413);
  const raw = await rawExchange(l.port, `POST ${origin.url}/up HTTP/1.1\r\nHost: ${origin.host}\r\nTransfer-Encoding: chunked\r\n\r\n${'800\r\n' + 'y'.repeat(0x800) + '\r\n'}0\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 413 /);
  await l.stop();
  await origin.close();
});
