/**
 * In-flight fills and slow clients (issue 12 items 4, 8 and 14): a fill whose client left stops reading the
 * origin unless it is nearly done; a slow store commit holds the last chunk at most about a second; a slow
 * client reading a large stored body leaves no listener behind per paused write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { once } from 'node:events';
import { startTestLarder } from '../helpers/larder.js';
import { startOrigin } from '../helpers/origin.js';
import { viaProxy } from '../helpers/client.js';
import { MemoryStore } from '../../src/store/memory.js';
import type { EntryInit, EntryWriter, Store } from '../../src/store/types.js';
import type { AccessRecord } from '../../src/log/record.js';

/** GET through the proxy on a raw socket; resolves once `bytes` response bytes arrived, then the client is gone. */
async function readThenLeave(port: number, url: string, bytes: number): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  s.write(`GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\n\r\n`);
  let got = 0;
  for await (const c of s) {
    got += (c as Buffer).length;
    if (got >= bytes) break;
  }
  s.destroy();
}

/** Until the proxy noticed the client's close (its access record is written then); bounded to 2 s. */
async function clientGoneSeen(records: AccessRecord[]): Promise<void> {
  for (let i = 0; i < 400 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(records.length, 1, 'the proxy never saw the client leave');
}

test('a fill whose client left far from the end stops reading the origin and is not stored', async () => {
  let originRequests = 0;
  const originClosed: Promise<void>[] = [];
  const origin = await startOrigin((req, res) => {
    originRequests++;
    originClosed.push(once(req.socket, 'close').then(() => undefined));
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': String(10_000_000) });
    res.write(Buffer.alloc(64 * 1024, 1)); // then it stalls: only the proxy giving up ends this exchange
  });
  const larder = await startTestLarder({ idleTimeout: 60_000 });
  try {
    await readThenLeave(larder.port, `${origin.url}/big`, 1000);
    await originClosed[0]; // without the abandonment this waits for the 60 s idle timeout
    assert.equal(larder.engine.counters.fillsAbandoned, 1);
    await readThenLeave(larder.port, `${origin.url}/big`, 1000);
    assert.equal(originRequests, 2, 'nothing was stored');
  } finally {
    await larder.stop();
    await origin.close();
  }
});

test('a fill whose client left when it was nearly done is finished and served to the next client', async () => {
  const size = 200_000;
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  let originRequests = 0;
  const origin = await startOrigin(async (_req, res) => {
    originRequests++;
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': String(size) });
    res.write(Buffer.alloc(size - 1000, 2));
    await released;
    res.end(Buffer.alloc(1000, 2));
  });
  const larder = await startTestLarder();
  try {
    await readThenLeave(larder.port, `${origin.url}/nearly`, size - 1000);
    await clientGoneSeen(larder.records);
    release();
    // the fill goes on without a client; the next request is a hit once it is committed
    let r = await viaProxy(larder.port, `${origin.url}/nearly`);
    assert.equal(r.body.length, size);
    if (originRequests > 1) assert.fail('the fill was abandoned although only 1000 bytes were left');
    assert.match(String(r.headers['cache-status']), /hit|collapsed/);
    r = await viaProxy(larder.port, `${origin.url}/nearly`);
    assert.match(String(r.headers['cache-status']), /^larder; hit/);
    assert.equal(larder.engine.counters.fillsAbandoned, 0);
  } finally {
    await larder.stop();
    await origin.close();
  }
});

/** A memory store whose commits take `ms` (a disk store with its write lock held). */
function slowCommitStore(ms: number): Store {
  const inner = new MemoryStore({ budget: 10_000_000, maxObjectSize: 1_000_000 });
  return Object.assign(Object.create(inner) as Store, {
    write(init: EntryInit): EntryWriter {
      const w = inner.write(init);
      return {
        write: (c: Buffer) => w.write(c),
        commit: () => new Promise((resolve, reject) => setTimeout(() => w.commit().then(resolve, reject), ms)),
        abort: () => w.abort(),
      };
    },
  });
}

test('a slow store commit holds the last chunk about a second, not until the commit (and it is counted)', async () => {
  const origin = await startOrigin((_req, res) => { res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': '5' }); res.end('hello'); });
  const larder = await startTestLarder({}, { store: slowCommitStore(5000) });
  try {
    const t0 = performance.now();
    const r = await viaProxy(larder.port, `${origin.url}/slow-commit`);
    const ms = performance.now() - t0;
    assert.equal(r.body.toString(), 'hello');
    assert.ok(ms < 3000, `the client waited ${Math.round(ms)} ms for a 5 s commit`);
    assert.equal(larder.engine.counters.slowCommits, 1);
  } finally {
    await larder.stop();
    await origin.close();
  }
});

test('a slow client reading a large stored body: no listener accumulates per paused write (no MaxListeners warning)', async () => {
  const size = 48 * 1024 * 1024;
  const origin = await startOrigin((_req, res) => { res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': String(size) }); res.end(Buffer.alloc(size, 3)); });
  // the disk store, with a memory tier too small to hold it: the hit body is a stream, written with backpressure
  const larder = await startTestLarder({ disk: true, memorySize: 1_000_000, maxObjectSize: 64_000_000 }, { memoryStore: false });
  const warnings: string[] = [];
  const onWarning = (w: Error) => { if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message); };
  process.on('warning', onWarning);
  try {
    const first = await viaProxy(larder.port, `${origin.url}/large`);
    assert.equal(first.body.length, size);
    // the slow client: reads in small steps, pausing after every chunk
    const got = await new Promise<number>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: larder.port, path: `${origin.url}/large`, agent: false }, (res) => {
        assert.match(String(res.headers['cache-status']), /^larder; hit/);
        let n = 0;
        res.on('data', (c: Buffer) => {
          n += c.length;
          res.pause();
          setTimeout(() => res.resume(), 1);
        });
        res.on('end', () => resolve(n));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
    assert.equal(got, size);
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    await larder.stop();
    await origin.close();
  }
});
