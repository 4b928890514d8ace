/**
 * Slot keys of every length: lmdb's key encoding writes strings of 64+ chars raw, where a byte below 5 ends
 * the string on decode. Format 1 separated key and variant with '\x01', so for URLs of 63+ chars delete()
 * found nothing to remove (an unsafe request did not invalidate on the disk store), eviction skipped the
 * entries, and Vary'd entries of mid-length URLs were never found.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { open as openLmdb } from 'lmdb';
import { DB_FILE, LmdbStore, STORE_FORMAT_VERSION } from '../../src/store/lmdb.js';
import { tempDir } from './helpers.js';
import { initFor, put } from './suite.js';

/** An absolute URL of exactly n chars. */
function urlOfLength(n: number, tag: string): string {
  const head = `http://origin.test/${tag}/`;
  return head + 'p'.repeat(Math.max(0, n - head.length));
}

const LENGTHS = [30, 40, 41, 50, 60, 61, 62, 63, 64, 65, 80, 200];

describe('LmdbStore keys of any length', () => {
  it('finds and deletes every variant, with and without Vary, whatever the URL length', async () => {
    const store = await LmdbStore.open({ dir: tempDir(), budget: 64e6, maxObjectSize: 1e6 });
    try {
      for (const n of LENGTHS) {
        const plain = urlOfLength(n, 'plain');
        const varied = urlOfLength(n, 'vary');
        await put(store, initFor(plain), Buffer.from('plain'));
        await put(store, initFor(varied, 'Zm9vYmFyYmF6cXV4cXV1eA'), Buffer.from('gzip'));
        await put(store, initFor(varied, 'YmFyYmF6cXV4cXV1eGZvbw'), Buffer.from('br'));
        assert.equal((await store.lookup(plain)).length, 1, `lookup of a ${n}-char URL`);
        assert.equal((await store.lookup(varied)).length, 2, `lookup of both variants of a ${n}-char URL`);
        assert.equal(await store.delete(plain), 1, `delete of a ${n}-char URL`);
        assert.equal(await store.delete(varied), 2, `delete of both variants of a ${n}-char URL`);
        assert.deepEqual(await store.lookup(plain), [], `nothing left for a ${n}-char URL`);
        assert.deepEqual(await store.lookup(varied), []);
      }
      assert.equal(store.stats().objects, 0);
    } finally {
      await store.close();
    }
  });

  it('deletes by prefix across long keys', async () => {
    const store = await LmdbStore.open({ dir: tempDir(), budget: 64e6, maxObjectSize: 1e6 });
    try {
      for (const n of [40, 63, 100]) {
        await put(store, initFor(urlOfLength(n, 'pre')), Buffer.from('x'));
        await put(store, initFor(urlOfLength(n, 'pre'), 'Zm9vYmFyYmF6cXV4cXV1eA'), Buffer.from('y'));
      }
      await put(store, initFor(urlOfLength(100, 'keep')), Buffer.from('z'));
      assert.equal(await store.deletePrefix('http://origin.test/pre/'), 6);
      assert.equal(store.stats().objects, 1);
    } finally {
      await store.close();
    }
  });

  it('evicts entries with long keys to stay within the budget', async () => {
    const budget = 64 * 1024;
    const store = await LmdbStore.open({ dir: tempDir(), budget, maxObjectSize: 16 * 1024 });
    try {
      for (let i = 0; i < 40; i++) await put(store, initFor(urlOfLength(120, `evict-${i}`)), Buffer.alloc(4096, i));
      const s = store.stats();
      assert.ok(s.bytes <= budget, `${s.bytes} bytes stored for a budget of ${budget}`);
      assert.ok(s.evictions > 0, 'some entries were evicted');
    } finally {
      await store.close();
    }
  });

  it('a directory of format 1 is cleared at open and then used, not refused', async () => {
    const dir = tempDir();
    const env = openLmdb({ path: join(dir, DB_FILE), maxDbs: 8 });
    env.openDB<number, string>({ name: 'state' }).putSync('version', 1);
    env.openDB<number, string>({ name: 'state' }).putSync('objects', 3);
    env.openDB<unknown, string>({ name: 'meta' }).putSync('http://origin.test/old\x01', { m: { key: 'http://origin.test/old' } });
    await env.close();
    const store = await LmdbStore.open({ dir, budget: 1e7, maxObjectSize: 1e6 });
    try {
      assert.deepEqual(await store.lookup('http://origin.test/old'), []);
      assert.equal(store.stats().objects, 0);
      await put(store, initFor(urlOfLength(90, 'new')), Buffer.from('new'));
      assert.equal((await store.lookup(urlOfLength(90, 'new'))).length, 1);
    } finally {
      await store.close();
    }
    const check = openLmdb({ path: join(dir, DB_FILE), maxDbs: 8, readOnly: true });
    try {
      assert.equal(check.openDB<number, string>({ name: 'state' }).get('version'), STORE_FORMAT_VERSION);
    } finally {
      await check.close();
    }
  });
});
