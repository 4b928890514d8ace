/**
 * A request whose upstream exchange is still running can be answered 400 by the listener meanwhile: when
 * bytes pipelined behind it are malformed, or when its own body framing turns out invalid. When the upstream answer arrives
 * later, nothing more is written and the upstream body is released: it must not crash the proxy (it did:
 * writeHead after the head was sent, then an unread upstream body destroyed with no 'error' listener).
 * The proxy runs as the real CLI in a child process, so a crash shows as the child exiting.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startCli } from './cli-process.js';
import { exchange } from './support.js';

const cleanup: (() => void)[] = [];
after(() => { for (const f of cleanup.reverse()) f(); });

test('an upstream answer that arrives after the listener answered 400 for bad body framing is dropped, and the proxy keeps serving', async () => {
  // the origin answers each POST and /slow 300 ms after its head, without waiting for the body (which never completes)
  const origin = http.createServer((req, res) => {
    req.on('error', () => {});
    if (req.method === 'POST' || req.url === '/slow') setTimeout(() => { res.writeHead(200, { 'Content-Length': '5' }); res.end('later'); }, 300);
    else { res.writeHead(200, { 'Content-Length': '2', 'Cache-Control': 'no-store' }); res.end('ok'); }
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const port0 = (origin.address() as AddressInfo).port;
  cleanup.push(() => { origin.closeAllConnections(); origin.close(); });
  const { child, port } = await startCli(['--allow-localhost-destinations']);
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });
  cleanup.push(() => child.kill('SIGKILL'));

  for (let i = 0; i < 5; i++) {
    const r = await exchange(port, `POST http://127.0.0.1:${port0}/upload HTTP/1.1\r\nHost: 127.0.0.1:${port0}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nZZZ\r\n`, 1500);
    assert.equal(r.status, 400, JSON.stringify(r.text.slice(0, 200)));
  }
  for (let i = 0; i < 5; i++) {
    // a malformed request line pipelined behind a GET still waiting for its origin: the GET, complete, is
    // answered when its origin does, then the connection closes (the bytes behind it are no request)
    const r = await exchange(port, `GET http://127.0.0.1:${port0}/slow HTTP/1.1\r\nHost: 127.0.0.1:${port0}\r\n\r\nTRACE / HTTP/1.1\t\nHost: x\r\n\r\n`, 1500);
    assert.equal(r.status, 200, JSON.stringify(r.text.slice(0, 200)));
    assert.match(r.text, /later$/);
  }
  await new Promise((r) => setTimeout(r, 800)); // the upstream answers arrive
  assert.equal(exited, undefined, 'the proxy is still running');
  const ok = await exchange(port, `GET http://127.0.0.1:${port0}/after HTTP/1.1\r\nHost: 127.0.0.1:${port0}\r\nConnection: close\r\n\r\n`, 3000);
  assert.equal(ok.status, 200);
});
