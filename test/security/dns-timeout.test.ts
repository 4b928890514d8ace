/**
 * A name server that never answers: every lookup larder makes is bounded by connect-timeout, and the
 * answer names the DNS timeout (504) instead of hanging; a CONNECT resolves its name once.
 * The lookup under larder's bounded resolver is replaced by one that never answers (or counts calls).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestLarder } from '../helpers/larder.js';
import { exchange } from './support.js';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

test('a DNS lookup that never answers gives 504 naming the DNS timeout within connect-timeout, for GET and CONNECT', async () => {
  const asked: string[] = [];
  const larder = await startTestLarder({ connectTimeout: 600 }, { hostLookup: (name) => { asked.push(name); return new Promise(() => {}); } });
  cleanup.push(() => larder.stop());

  let started = Date.now();
  const get = await exchange(larder.port, 'GET http://hung.example/x HTTP/1.1\r\nHost: hung.example\r\nConnection: close\r\n\r\n', 5000);
  let ms = Date.now() - started;
  assert.equal(get.status, 504, JSON.stringify(get.text.slice(0, 200)));
  assert.match(get.text, /DNS lookup of hung\.example timed out after 600 ms/);
  assert.ok(ms >= 550 && ms < 1600, `GET answered after ${ms} ms with connect-timeout 600 ms`);

  started = Date.now();
  const connect = await exchange(larder.port, 'CONNECT hung-tunnel.example:443 HTTP/1.1\r\nHost: hung-tunnel.example:443\r\n\r\n', 5000);
  ms = Date.now() - started;
  assert.equal(connect.status, 504, JSON.stringify(connect.text.slice(0, 200)));
  assert.match(connect.text, /DNS lookup of hung-tunnel\.example timed out after 600 ms/);
  assert.ok(ms >= 550 && ms < 1600, `CONNECT answered after ${ms} ms with connect-timeout 600 ms`);
  assert.deepEqual(asked.filter((n) => n === 'hung-tunnel.example'), ['hung-tunnel.example']);
});

test('a CONNECT looks its name up once, and connects to the address it checked', async () => {
  const echo = net.createServer((s) => { s.on('error', () => s.destroy()); s.pipe(s); });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  cleanup.push(() => { echo.close(); });
  const port = (echo.address() as net.AddressInfo).port;
  const asked: string[] = [];
  // the fake name resolves to loopback, which only allowLocalhostDestinations lets a non-localhost name reach
  const larder = await startTestLarder({ connectPorts: [String(port)], allowLocalhostDestinations: true }, {
    hostLookup: async (name) => { asked.push(name); return [{ address: '127.0.0.1', family: 4 }]; },
  });
  cleanup.push(() => larder.stop());
  const r = await exchange(larder.port, [`CONNECT tunnel.example:${port} HTTP/1.1\r\nHost: tunnel.example:${port}\r\n\r\n`, 'ping'], 1500, 200);
  assert.match(r.text, /^HTTP\/1\.1 200 [^]*\r\n\r\nping$/);
  assert.equal(asked.length, 1, `looked up ${asked.length} times: ${asked.join(', ')}`);
});
