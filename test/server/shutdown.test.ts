/** Graceful shutdown: the listener stops accepting, in-flight requests finish, and the wait is bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTestLarder } from '../helpers/larder.js';
import { startOrigin } from '../helpers/origin.js';
import { viaProxy, sleep } from '../helpers/client.js';

test('an in-flight request completes during shutdown; new connections are refused', async () => {
  const origin = await startOrigin(async (_q, res) => { await sleep(400); res.writeHead(200, { 'cache-control': 'no-store' }); res.end('finished'); });
  const l = await startTestLarder({ shutdownTimeout: 5000 });
  const inflight = viaProxy(l.port, `${origin.url}/slow`);
  await sleep(100);
  const closing = l.close();
  await sleep(50);
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(l.port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
  assert.ok(refused, 'a new connection was accepted after shutdown began');
  const r = await inflight;
  assert.equal(r.body.toString(), 'finished');
  await closing;
  await l.stop();
  await origin.close();
});

test('shutdown is bounded: a request that never finishes is cut after --shutdown-timeout', async () => {
  const origin = await startOrigin(() => { /* never answers */ });
  const l = await startTestLarder({ shutdownTimeout: 500, upstreamTimeout: 60_000 });
  const inflight = viaProxy(l.port, `${origin.url}/forever`).catch((e: Error) => e);
  await sleep(100);
  const started = Date.now();
  await l.close();
  assert.ok(Date.now() - started < 3000, `shutdown took ${Date.now() - started} ms`);
  assert.ok((await inflight) instanceof Error);
  await l.stop();
  await origin.close();
});
