import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { createFastFront } from '../../src/server/fast-front.js';
import { parseFastRequest } from '../../src/server/fast-request.js';

const limits = { maxHeaderSize: 65536, maxHeaders: 100, maxUrlLength: 16384 };

/** A front whose fast path answers GET/HEAD /fast*, and a node:http server behind it that answers the rest. */
async function start() {
  const seen: string[] = [];
  const backend = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => { body += d; });
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      const out = `slow ${req.method} ${req.url} ${body}`;
      res.writeHead(200, { 'Content-Length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  let fastServed = 0;
  const front = createFastFront({
    http: backend, limits, keepAliveTimeoutMs: 5000,
    fastAllowed: () => true,
    serve: (socket, req) => {
      if (!req.target.startsWith('/fast')) return false;
      fastServed++;
      const out = `fast ${req.target}`;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${out.length}\r\n\r\n${req.method === 'GET' ? out : ''}`);
      return true;
    },
  });
  front.server.listen(0, '127.0.0.1');
  await once(front.server, 'listening');
  const port = (front.server.address() as net.AddressInfo).port;
  return {
    port, seen, fastServed: () => fastServed,
    close: async () => { front.closeIdle(); backend.closeAllConnections(); await new Promise((r) => front.server.close(r)); },
  };
}

/** Send `parts` (with a pause between them) and collect everything until the server has sent `responses` bodies or closed. */
async function exchange(port: number, parts: string[], expectBodies: string[]): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  let got = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => { got += d; });
  for (const p of parts) {
    s.write(p);
    await new Promise((r) => setTimeout(r, 30));
  }
  const deadline = Date.now() + 3000;
  while (!expectBodies.every((b) => got.includes(b)) && Date.now() < deadline && !s.destroyed) await new Promise((r) => setTimeout(r, 10));
  s.destroy();
  return got;
}

test('plain GETs are answered on the fast path; the first other request moves the connection to node:http', async () => {
  const f = await start();
  try {
    const got = await exchange(f.port, [
      'GET /fast/1 HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET /other HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET /fast/2 HTTP/1.1\r\nHost: a\r\n\r\n',
    ], ['fast /fast/1', 'slow GET /other', 'slow GET /fast/2']);
    assert.match(got, /fast \/fast\/1[\s\S]*slow GET \/other[\s\S]*slow GET \/fast\/2/);
    assert.equal(f.fastServed(), 1);
  } finally { await f.close(); }
});

test('pipelined requests keep their order across the hand-off, bodies included', async () => {
  const f = await start();
  try {
    const got = await exchange(f.port, [
      'GET /fast/a HTTP/1.1\r\nHost: a\r\n\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel',
      'lo' + 'GET /fast/b HTTP/1.1\r\nHost: a\r\n\r\n',
    ], ['fast /fast/a', 'slow POST /p hello', 'slow GET /fast/b']);
    const a = got.indexOf('fast /fast/a');
    const p = got.indexOf('slow POST /p hello');
    const b = got.indexOf('slow GET /fast/b');
    assert.ok(a !== -1 && p > a && b > p, got);
    assert.deepEqual(f.seen, ['POST /p hello', 'GET /fast/b ']);
  } finally { await f.close(); }
});

test('a head that arrives in pieces is left to node:http', async () => {
  const f = await start();
  try {
    const got = await exchange(f.port, ['GET /fast/x HTTP/1.1\r\nHo', 'st: a\r\n\r\n'], ['slow GET /fast/x']);
    assert.match(got, /slow GET \/fast\/x/);
    assert.equal(f.fastServed(), 0);
  } finally { await f.close(); }
});

test('malformed input reaches node:http, which refuses it as before', async () => {
  const f = await start();
  try {
    const got = await exchange(f.port, ['GET /fast/x HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n'], ['400']);
    assert.match(got, /^HTTP\/1\.1 400/);
    assert.equal(f.fastServed(), 0);
  } finally { await f.close(); }
});

test('Connection: close is honoured on the fast path', async () => {
  const f = await start();
  try {
    const s = net.connect(f.port, '127.0.0.1');
    await once(s, 'connect');
    s.write('GET /fast/c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /fast/d HTTP/1.1\r\nHost: a\r\n\r\n');
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => { got += d; });
    await once(s, 'end');
    assert.match(got, /fast \/fast\/c$/);
    assert.equal(f.fastServed(), 1);
    s.destroy();
  } finally { await f.close(); }
});

test('the parser accepts only a strict subset of HTTP/1.1', () => {
  const ok = (s: string) => parseFastRequest(s, 0, limits) !== undefined;
  assert.ok(ok('GET / HTTP/1.1\r\nHost: a\r\n\r\n'));
  assert.ok(ok('HEAD /x?y=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n'));
  assert.ok(ok('GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n'));
  for (const bad of [
    'GET / HTTP/1.0\r\nHost: a\r\n\r\n',
    'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
    'POST / HTTP/1.1\r\nHost: a\r\n\r\n',
    'get / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
    'GET / HTTP/1.1\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n',
    'GET / HTTP/1.1\r\nHost : a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nX: \x0bv\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: "x"\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nCache-Control: no-cache\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nPragma: no-cache\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 x\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n',
    'GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: a\r\n',
  ]) assert.equal(ok(bad), false, JSON.stringify(bad));
});
