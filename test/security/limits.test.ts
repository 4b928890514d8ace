/**
 * Every listener and upstream limit hit by a test with a small value: slowloris (headersTimeout), idle
 * keep-alive, total and per-client connection caps, request body size (Content-Length and chunked),
 * upstream response header flood, upstream connect / head / body-idle timeouts. After each, the next
 * well-formed request is still served.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, faults, type RawOrigin } from '../helpers/raw-origin.js';
import { exchange, assertStillServes, wellFormed, targetFor, type Mode } from './support.js';
import { sleep } from '../helpers/client.js';

const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function setup(overrides: Parameters<typeof startTestLarder>[0], mode: Mode = 'forward'): Promise<{ larder: TestLarder; origin: RawOrigin }> {
  const origin = await startRawOrigin(faults.ok());
  const larder = await startTestLarder({ cache: false, ...overrides, ...(mode === 'reverse' ? { upstream: origin.url } : {}) });
  cleanup.push(() => origin.close(), () => larder.stop());
  return { larder, origin };
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves true when the socket is closed by the peer within ms. */
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => { clearTimeout(t); resolve(true); });
    s.on('error', () => undefined);
    s.resume();
  });
}

test('slowloris: a head sent one byte every 500 ms gets 408 and is closed within headersTimeout', async () => {
  const { larder, origin } = await setup({ headersTimeout: 1500 });
  const head = wellFormed('forward', origin, '/slow');
  const started = Date.now();
  const r = await exchange(larder.port, head.split(''), 8000, 500);
  assert.equal(r.status, 408, JSON.stringify(r.text.slice(0, 100)));
  assert.ok(r.closed);
  assert.ok(Date.now() - started < 1500 + 1000 + 1000, `closed after ${Date.now() - started} ms`);
  assert.equal(origin.requests.length, 0);
  await assertStillServes(larder.port, 'forward', origin, 'slowloris');
});

test('keepAliveTimeout: an idle keep-alive connection is closed', async () => {
  const { larder, origin } = await setup({ keepAliveTimeout: 400 });
  const s = await connect(larder.port);
  const { target, host } = targetFor('forward', origin, '/ka');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  s.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  const started = Date.now();
  const closed = await closedWithin(s, 3000);
  assert.match(got, /^HTTP\/1\.1 200/);
  assert.ok(closed, 'idle keep-alive connection still open after 3 s');
  assert.ok(Date.now() - started >= 300, 'closed before the keep-alive timeout');
  await assertStillServes(larder.port, 'forward', origin, 'keep-alive');
});

test('maxConnections: the connection over the cap is refused; freed slots serve again', async () => {
  const { larder, origin } = await setup({ maxConnections: 5, maxConnectionsPerClient: 0 });
  const held = await Promise.all(Array.from({ length: 5 }, () => connect(larder.port)));
  await sleep(50);
  const extra = await exchange(larder.port, wellFormed('forward', origin, '/over'), 2000);
  assert.equal(extra.status, 0, 'the sixth connection was served');
  assert.ok(extra.closed);
  assert.equal(origin.count('/over'), 0);
  for (const s of held) s.destroy();
  await sleep(100);
  await assertStillServes(larder.port, 'forward', origin, 'maxConnections');
});

test('maxConnectionsPerClient: one address is capped, another address is still served', async () => {
  const { larder, origin } = await setup({ maxConnections: 100, maxConnectionsPerClient: 3 });
  const held = await Promise.all(Array.from({ length: 3 }, () => connect(larder.port)));
  await sleep(50);
  const extra = await exchange(larder.port, wellFormed('forward', origin, '/over'), 2000);
  assert.equal(extra.status, 0, 'the fourth connection from the same address was served');
  // another loopback address (127.0.0.2) is another client
  const other = await connect(larder.port, '127.0.0.2');
  let got = '';
  other.on('data', (d) => { got += d.toString('latin1'); });
  other.write(wellFormed('forward', origin, '/other-client'));
  await closedWithin(other, 3000);
  assert.match(got, /^HTTP\/1\.1 200/);
  for (const s of held) s.destroy();
  await sleep(100);
  await assertStillServes(larder.port, 'forward', origin, 'maxConnectionsPerClient');
});

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`[${mode}] maxRequestBody: Content-Length over the limit gets 413, origin sees nothing`, async () => {
    const { larder, origin } = await setup({ maxRequestBody: 1000 }, mode);
    const { target, host } = targetFor(mode, origin, '/big');
    const r = await exchange(larder.port, `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 2000\r\n\r\n${'a'.repeat(2000)}`, 3000);
    assert.equal(r.status, 413);
    assert.ok(r.closed);
    await sleep(50);
    assert.equal(origin.requests.length, 0);
    await assertStillServes(larder.port, mode, origin, '413 CL');
  });

  test(`[${mode}] maxRequestBody: a chunked body over the limit is refused (413 or cut), origin never gets it whole`, async () => {
    const { larder, origin } = await setup({ maxRequestBody: 1000 }, mode);
    const { target, host } = targetFor(mode, origin, '/big-chunked');
    const chunk = `400\r\n${'a'.repeat(1024)}\r\n`;
    const r = await exchange(larder.port, [`POST ${target} HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked\r\n\r\n`, chunk, chunk, chunk, '0\r\n\r\n'], 4000, 100);
    await sleep(100);
    assert.equal(origin.requests.length, 0, `origin received the whole ${origin.requests[0]?.body.length}-byte body`);
    assert.equal(r.status, 413, `got ${r.status || 'no response'}`);
    assert.ok(r.closed);
    await assertStillServes(larder.port, mode, origin, '413 chunked');
  });

  test(`[${mode}] maxResponseHeaders: an origin header flood gives 502`, async () => {
    const { larder, origin } = await setup({ maxResponseHeaders: 50 }, mode);
    origin.behave(faults.headerFlood(100));
    const r = await exchange(larder.port, wellFormed(mode, origin, '/flood'), 3000);
    assert.equal(r.status, 502);
    origin.behave(faults.ok());
    await assertStillServes(larder.port, mode, origin, 'header flood');
  });

  test(`[${mode}] upstreamTimeout: a never-answering origin gives 504 within the bound`, async () => {
    const { larder, origin } = await setup({ upstreamTimeout: 600 }, mode);
    origin.behave(faults.never());
    const started = Date.now();
    const r = await exchange(larder.port, wellFormed(mode, origin, '/never'), 4000);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    origin.behave(faults.ok());
    await assertStillServes(larder.port, mode, origin, 'head timeout');
  });

  test(`[${mode}] idleTimeout: a body that stalls is cut, never completed`, async () => {
    const { larder, origin } = await setup({ idleTimeout: 600 }, mode);
    origin.behave((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc'));
    const r = await exchange(larder.port, wellFormed(mode, origin, '/stall'), 4000);
    assert.ok(r.closed, 'the stalled body was not cut');
    assert.ok(r.text.split('\r\n\r\n')[1]!.length < 100);
    assert.ok(r.ms < 3000, `cut after ${r.ms} ms`);
    origin.behave(faults.ok());
    await assertStillServes(larder.port, mode, origin, 'idle timeout');
  });
}

/** A listening socket that never accepts (python, backlog 0), its queue filled so further SYNs go unanswered. */
async function blackhole(): Promise<{ port: number; close(): void }> {
  const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    py.once('error', reject);
  });
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await sleep(200);
  return { port, close: () => { for (const s of fillers) s.destroy(); py.kill(); } };
}

test('connectTimeout: an origin whose SYNs go unanswered gives 504 within the bound', async () => {
  const { larder, origin } = await setup({ connectTimeout: 500 });
  const hole = await blackhole();
  try {
    const started = Date.now();
    const r = await exchange(larder.port, `GET http://127.0.0.1:${hole.port}/x HTTP/1.1\r\nHost: 127.0.0.1:${hole.port}\r\nConnection: close\r\n\r\n`, 5000);
    assert.equal(r.status, 504, JSON.stringify(r.text.slice(0, 200)));
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  } finally {
    hole.close();
  }
  await assertStillServes(larder.port, 'forward', origin, 'connect timeout');
});

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`[${mode}] slow request body (R-U-Dead-Yet): a body that stalls is cut within idleTimeout, the origin never gets it whole`, async () => {
    const { larder, origin } = await setup({ idleTimeout: 800, upstreamTimeout: 800 }, mode);
    const { target, host } = targetFor(mode, origin, '/slow-body');
    const started = Date.now();
    const r = await exchange(larder.port, `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 100\r\n\r\n0123456789`, 4500);
    assert.ok(r.closed, `connection still open after ${r.ms} ms`);
    assert.ok(Date.now() - started < 4000, `closed after ${Date.now() - started} ms`);
    assert.equal(origin.requests.length, 0);
    await assertStillServes(larder.port, mode, origin, 'slow body');
  });
}
