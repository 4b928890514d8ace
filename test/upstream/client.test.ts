import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { UpstreamFailure } from '../../src/errors.js';
import { UpstreamClient } from '../../src/upstream/client.js';

const opts = { connectTimeout: 2000, upstreamTimeout: 300, idleTimeout: 300, connections: 4, maxResponseHeaders: 50 };

/** a raw origin: answers each request head with `reply(path, socket)` */
async function rawOrigin(reply: (path: string, s: net.Socket) => void): Promise<{ url: string; close(): void; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = /^\S+ (\S+)/.exec(buf)![1]!;
      buf = buf.slice(end + 4);
      reply(path, s);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, close: () => { for (const s of sockets) s.destroy(); srv.close(); }, sockets };
}

async function readAll(body: NodeJS.ReadableStream): Promise<string> {
  let out = '';
  for await (const c of body) out += c;
  return out;
}

test('a response head and body arrive through the dispatch handler; interim 102/103 heads are skipped', async (t) => {
  const o = await rawOrigin((_p, s) => {
    s.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n');
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Two: a\r\nX-Two: b\r\n\r\nhello');
  });
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const r = await c.request({ url: new URL(`${o.url}/x`), method: 'GET', headers: ['host', 'origin.test'] });
  assert.equal(r.status, 200);
  assert.deepEqual(r.headers['x-two'], ['a', 'b']);
  assert.equal(r.headers.link, undefined, 'fields of a 103 are not merged into the final head');
  assert.equal(await readAll(r.body), 'hello');
  assert.equal(r.address, `127.0.0.1:${new URL(o.url).port}`);
});

test('pooled connections are reused across exchanges', async (t) => {
  const seen = new Set<net.Socket>();
  const o = await rawOrigin((_p, s) => { seen.add(s); s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'); });
  const c = new UpstreamClient({ ...opts, connections: 1 });
  t.after(async () => { o.close(); await c.close(); });
  for (let i = 0; i < 5; i++) {
    const r = await c.request({ url: new URL(`${o.url}/r${i}`), method: 'GET', headers: ['host', 'origin.test'] });
    assert.equal(await readAll(r.body), 'ok');
  }
  assert.equal(seen.size, 1, 'five exchanges over one connection');
});

test('no response head within the upstream timeout is a timeout failure naming it', async (t) => {
  const o = await rawOrigin(() => undefined);
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const err = await c.request({ url: new URL(`${o.url}/slow`), method: 'GET', headers: ['host', 'o'] }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UpstreamFailure);
  assert.equal(err.kind, 'timeout');
  assert.match(err.message, /no response head within 300 ms/);
});

test('a body that stalls past the idle timeout errors the body stream with a body timeout', async (t) => {
  const o = await rawOrigin((_p, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const url = new URL(`${o.url}/stall`);
  const r = await c.request({ url, method: 'GET', headers: ['host', 'o'] });
  const err = await readAll(r.body).then(() => undefined, (e: unknown) => e);
  assert.ok(err, 'the body stream errors');
  const classified = c.classify(err, url) as UpstreamFailure;
  assert.equal(classified.kind, 'timeout');
  assert.match(classified.message, /no body bytes for 300 ms/);
});

test('too many response header fields is an invalid-response failure', async (t) => {
  const fields = Array.from({ length: 60 }, (_, i) => `X-F${i}: v\r\n`).join('');
  const o = await rawOrigin((_p, s) => s.write(`HTTP/1.1 200 OK\r\n${fields}Content-Length: 0\r\n\r\n`));
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const err = await c.request({ url: new URL(`${o.url}/h`), method: 'GET', headers: ['host', 'o'] }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UpstreamFailure);
  assert.match(err.message, /sent 61 header fields \(limit 50\)/);
});

test('destroying the body mid-stream aborts the upstream exchange (its connection is closed)', async (t) => {
  let origin: net.Socket | undefined;
  const o = await rawOrigin((_p, s) => { origin = s; s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000)); });
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const r = await c.request({ url: new URL(`${o.url}/big`), method: 'GET', headers: ['host', 'o'] });
  await new Promise((resolve) => r.body.once('data', resolve));
  const closed = new Promise((resolve) => origin!.once('close', resolve));
  r.body.destroy();
  await closed;
});

test('an abort signal before the head rejects the exchange and closes the upstream connection', async (t) => {
  let origin: net.Socket | undefined;
  let arrived!: () => void;
  const headArrived = new Promise<void>((r) => { arrived = r; });
  const o = await rawOrigin((_p, s) => { origin = s; arrived(); });
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const ac = new AbortController();
  const p = c.request({ url: new URL(`${o.url}/a`), method: 'GET', headers: ['host', 'o'], signal: ac.signal });
  await headArrived;
  const closed = new Promise((resolve) => origin!.once('close', resolve));
  ac.abort();
  const err = await p.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UpstreamFailure);
  await closed;
});

test('a refused connection is a failure naming the refusal', async (t) => {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const c = new UpstreamClient(opts);
  t.after(() => c.close());
  const err = await c.request({ url: new URL(`http://127.0.0.1:${port}/`), method: 'GET', headers: ['host', 'o'] }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UpstreamFailure);
  assert.match(err.message, /refused the connection/);
});

test('undici itself rejects a 100 Continue the request did not ask for (as a reset, documented for 1xx relaying)', async (t) => {
  const o = await rawOrigin((_p, s) => s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const err = await c.request({ url: new URL(`${o.url}/c`), method: 'GET', headers: ['host', 'o'] }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof UpstreamFailure);
  assert.match(err.message, /closed or reset/);
});

test('a body not being read is not buffered: the exchange is paused (backpressure to the origin socket)', async (t) => {
  const total = 32 * 1024 * 1024;
  let written = 0;
  let origin: net.Socket | undefined;
  const o = await rawOrigin((_p, s) => {
    origin = s;
    s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!s.write(chunk)) { s.once('drain', pump); return; }
      }
    };
    pump();
  });
  const c = new UpstreamClient(opts);
  t.after(async () => { o.close(); await c.close(); });
  const r = await c.request({ url: new URL(`${o.url}/big`), method: 'GET', headers: ['host', 'o'] });
  // let the origin write as much as the path will take while nobody reads
  let last = -1;
  while (last !== written) { last = written; await new Promise((resolve) => setTimeout(resolve, 100)); }
  assert.ok(written < 16 * 1024 * 1024, `origin could write ${written} bytes while the body was not read`);
  assert.ok(r.body.readableLength <= 1024 * 1024, `body buffered ${r.body.readableLength} bytes`);
  let got = 0;
  for await (const chunk of r.body) got += (chunk as Buffer).length;
  assert.equal(got, total);
  origin?.end();
});
