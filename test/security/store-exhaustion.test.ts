/**
 * Resource exhaustion in the store (issue 12 item 13): a full disk, a corrupt metadata record, a URL longer
 * than the store's key limit. None of them may crash the process or stop requests being served.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Metrics } from '../../src/admin/metrics.js';
import { LmdbStore, MAX_SLOT_BYTES } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TieredStore } from '../../src/store/tiered.js';
import { tempDir } from '../store/helpers.js';
import { bodyFor, drain, initFor, put } from '../store/suite.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const MiB = 1024 * 1024;

/** A 2 MiB tmpfs, or the reason there is none (not root, no mount). */
function smallTmpfs(): { dir: string } | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'not root: cannot mount a small tmpfs' };
  const dir = mkdtempSync(join(tmpdir(), 'larder-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}` };
  }
  after(() => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    } catch {
      // left mounted: nothing else to do
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir };
}

/** Fail the test on any unhandled rejection meanwhile (lmdb's commitError used to be one: a crash). */
function watchUnhandled(): () => unknown[] {
  const seen: unknown[] = [];
  const onRejection = (err: unknown) => seen.push(err);
  process.on('unhandledRejection', onRejection);
  after(() => process.off('unhandledRejection', onRejection));
  return () => seen;
}

function origin(handler: http.RequestListener): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  after(() => server.close());
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits })),
  );
}

async function startCli(args: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--port', '0', '--admin-port', '0', '--access-log', 'off', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: ROOT,
  });
  after(() => {
    child.kill('SIGKILL');
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`larder did not start: ${err}`)), 20_000);
    const onData = () => {
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (c) => reject(new Error(`larder exited ${c}: ${err}`)));
  });
  return { child, port, stderr: () => err };
}

function get(port: number, path: string): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts), headers: res.headers }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('a full disk never crashes the process', () => {
  it('the store stops accepting entries, counts and reports it, and keeps serving what it holds (2 MiB tmpfs)', { timeout: 60_000 }, async (t) => {
    const fs = smallTmpfs();
    if ('skip' in fs) {
      console.log(`skipped: ${fs.skip}`);
      return t.skip(fs.skip);
    }
    const unhandled = watchUnhandled();
    const reported: string[] = [];
    const disk = await LmdbStore.open({ dir: join(fs.dir, 'cache'), budget: 64 * MiB, maxObjectSize: 8 * MiB, onWriteError: (m) => reported.push(m) });
    const store = new TieredStore(new MemoryStore({ budget: 8 * MiB, maxObjectSize: MiB }), disk);
    after(() => store.close());
    const first = await put(store, initFor('http://full/first'), bodyFor('first', 100_000));
    let refusedAt = -1;
    for (let i = 0; i < 60 && refusedAt < 0; i++) {
      try {
        await put(store, initFor(`http://full/${i}`), bodyFor(`full-${i}`, 100_000));
      } catch {
        refusedAt = i;
      }
    }
    assert.ok(refusedAt > 0, 'the disk filled up and a write failed');
    assert.ok(disk.full, 'the store stopped accepting entries');
    assert.equal(reported.length, 1, 'reported once per episode');
    assert.match(reported[0]!, /failed a write.*refused.*still served/);
    // further entries are refused at once, without touching the disk
    await assert.rejects(put(store, initFor('http://full/later'), bodyFor('later', 1000)), { code: 'LARDER_ERR_STORE_FULL' });
    const refused = disk.stats().refused!;
    assert.ok(refused.writeErrors! >= 1 && refused.full! >= 1, JSON.stringify(refused));
    // what it holds is still served, from disk (a fresh memory tier) and from memory
    const cold = new TieredStore(new MemoryStore({ budget: 8 * MiB, maxObjectSize: MiB }), disk);
    const [meta] = await cold.lookup('http://full/first');
    assert.ok(meta);
    assert.deepEqual(await drain(await cold.read(meta)), bodyFor('first', 100_000));
    assert.equal(first.size, 100_000);
    // counted in the metrics
    const text = await new Metrics({ storeStats: () => store.tierStats(), defaultMetrics: false }).registry.metrics();
    assert.match(text, /larder_store_refused_total\{tier="lmdb",reason="writeErrors"\} [1-9]/);
    assert.deepEqual(unhandled(), [], 'no unhandled rejection (it would end the process)');
  });

  it('through the proxy: on a full cache directory every request is still answered, and the fact is logged', { timeout: 90_000 }, async (t) => {
    const fs = smallTmpfs();
    if ('skip' in fs) {
      console.log(`skipped: ${fs.skip}`);
      return t.skip(fs.skip);
    }
    const up = await origin((req, res) => {
      const body = bodyFor(req.url!, 150_000);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'max-age=600' });
      res.end(body);
    });
    const cacheDir = join(fs.dir, 'cache');
    mkdirSync(cacheDir);
    const larder = await startCli(['--upstream', up.url, '--cache-dir', cacheDir, '--memory-size', '1MB']);
    for (let i = 0; i < 30; i++) {
      const r = await get(larder.port, `/obj/${i}`);
      assert.equal(r.status, 200, `request ${i}`);
      assert.ok(r.body.equals(bodyFor(`/obj/${i}`, 150_000)), `body ${i} intact`);
    }
    assert.equal(larder.child.exitCode, null, 'still running');
    assert.match(larder.stderr(), /disk store in .* failed a write/, 'logged');
    // and it still serves hits of what it stored before the disk filled
    const again = await get(larder.port, '/obj/0');
    assert.equal(again.status, 200);
    assert.ok(again.body.equals(bodyFor('/obj/0', 150_000)));
  });
});

describe('a corrupt metadata record', () => {
  it('is skipped and removed, not thrown inside eviction or lookup', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const disk = await LmdbStore.open({ dir, budget: 1 * MiB, maxObjectSize: MiB });
    after(() => disk.close());
    const internals = disk as unknown as {
      env: { openDB(o: object): { putSync(k: unknown, v: unknown): void; get(k: unknown): unknown }; transactionSync(fn: () => void): void };
      db: { order: { putSync(k: unknown, v: unknown): void }; meta: { getKeys(): Iterable<string> } };
    };
    const rawMeta = internals.env.openDB({ name: 'meta', encoding: 'binary' });
    internals.env.transactionSync(() => {
      // bytes that do not decode (0xc1 is never used by msgpack), and a record of the wrong shape
      rawMeta.putSync('http://corrupt/undecodable\x01', Buffer.from([0xc1, 0xc1, 0xc1]));
      internals.db.order.putSync([0, 'http://corrupt/undecodable\x01'], 1);
      internals.db.order.putSync([0, 'http://corrupt/shape\x01'], 1);
    });
    internals.env.transactionSync(() => (internals.env.openDB({ name: 'meta' }) as { putSync(k: string, v: unknown): void }).putSync('http://corrupt/shape\x01', { hello: 1 }));
    // lookups skip them
    assert.deepEqual(await disk.lookup('http://corrupt/undecodable'), []);
    // eviction runs over them (lowest priority first) and goes on
    for (let i = 0; i < 8; i++) await put(disk, initFor(`http://corrupt/fill${i}`), bodyFor(`fill${i}`, 200_000));
    assert.ok(disk.stats().evictions > 0, 'eviction ran');
    const keys = [...internals.db.meta.getKeys()];
    assert.ok(!keys.some((k) => k.startsWith('http://corrupt/undecodable') || k.startsWith('http://corrupt/shape')), 'both removed');
    assert.ok(disk.stats().refused!.corrupt! >= 2);
    const [last] = await disk.lookup('http://corrupt/fill7');
    assert.ok(last, 'the newest entry was stored');
  });
});

describe('a URL longer than the store key limit', () => {
  it('is not stored and its body is not written', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const disk = await LmdbStore.open({ dir, budget: 64 * MiB, maxObjectSize: 8 * MiB });
    const store = new TieredStore(new MemoryStore({ budget: 8 * MiB, maxObjectSize: MiB }), disk);
    after(() => store.close());
    const key = 'http://long/' + 'a'.repeat(MAX_SLOT_BYTES + 100);
    const w = store.write(initFor(key));
    const body = bodyFor('long', 2 * MiB);
    await assert.rejects(Promise.resolve(w.write(body.subarray(0, MiB))), { code: 'LARDER_ERR_STORE_KEY' });
    // a caller that goes on writing is not an error, and nothing reaches the disk
    await w.write(body.subarray(MiB));
    await assert.rejects(w.commit(), { code: 'LARDER_ERR_STORE_KEY' });
    const chunks = (disk as unknown as { db: { chunks: { getKeysCount(): number }; pending: { getKeysCount(): number } } }).db;
    assert.equal(chunks.chunks.getKeysCount(), 0, 'no chunk written');
    assert.equal(chunks.pending.getKeysCount(), 0, 'no pending mark');
    assert.deepEqual(await store.lookup(key), []);
    assert.equal(await store.delete(key), 0);
    assert.equal(disk.stats().refused!.keyTooLong, 1);
  });

  it('through the proxy: answered from the origin every time, the process unharmed', { timeout: 60_000 }, async () => {
    const up = await origin((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=600' });
      res.end(`long ${req.url!.length}`);
    });
    const cacheDir = tempDir('larder-long-');
    const larder = await startCli(['--upstream', up.url, '--cache-dir', cacheDir]);
    const path = '/' + 'p'.repeat(3000);
    for (let i = 0; i < 2; i++) {
      const r = await get(larder.port, path);
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), `long ${path.length}`);
    }
    assert.equal(up.hits(), 2, 'not stored: both from the origin');
    const short = await get(larder.port, '/short');
    assert.equal(short.status, 200);
    assert.equal(larder.child.exitCode, null);
  });
});
