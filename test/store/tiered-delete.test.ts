/**
 * Nothing comes back after a delete (an invalidation, RFC 9111 §4.4: "A cache MUST invalidate the target URI
 * ... when it receives a non-error status code in response to an unsafe request method"): not through a
 * disk read that was promoting the body into memory, not through a writer opened before the delete, not
 * through a disk commit still in flight when the delete was asked for.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TieredStore } from '../../src/store/tiered.js';
import { tempDir } from './helpers.js';
import { bodyFor, initFor, put } from './suite.js';

const root = tempDir();
let n = 0;
async function tiered(): Promise<TieredStore> {
  const memory = new MemoryStore({ budget: 1e7, maxObjectSize: 1e6 });
  const disk = await LmdbStore.open({ dir: join(root, `d${n++}`), budget: 1e8, maxObjectSize: 1e6 });
  return new TieredStore(memory, disk);
}
const URL = 'http://origin.test/test/3f0a2b1c-9d8e-4f7a-b6c5-d4e3f2a1b0c9';

describe('TieredStore: a delete is final', () => {
  it('a disk read racing a delete does not promote the body back into memory', async () => {
    const store = await tiered();
    try {
      await put(store.disk, initFor(URL), bodyFor('r', 3000)); // on disk only, as after a restart
      const [meta] = await store.lookup(URL);
      assert.ok(meta);
      const deleting = store.delete(URL);
      assert.ok(await store.read(meta), 'the read that began before the delete still gets its body');
      assert.equal(await deleting, 1);
      assert.deepEqual(await store.lookup(URL), [], 'nothing in memory or on disk');
      assert.deepEqual(store.tierStats().map((s) => s.objects), [0, 0]);
    } finally {
      await store.close();
    }
  });

  it('a writer opened before a delete of its key does not commit', async () => {
    const store = await tiered();
    try {
      const w = store.write(initFor(URL));
      await w.write(bodyFor('w', 2000));
      await store.delete(URL);
      await assert.rejects(w.commit());
      assert.deepEqual(await store.lookup(URL), []);
      assert.deepEqual(store.tierStats().map((s) => s.objects), [0, 0]);
    } finally {
      await store.close();
    }
  });

  it('a delete asked for while the disk commit is in flight removes the entry from both tiers', async () => {
    const store = await tiered();
    try {
      const w = store.write(initFor(URL));
      await w.write(bodyFor('c', 2000));
      const committing = w.commit();
      const deleting = store.delete(URL);
      await assert.rejects(committing, 'the commit does not report an entry that is gone');
      await deleting;
      assert.deepEqual(await store.lookup(URL), []);
      assert.deepEqual(store.tierStats().map((s) => s.objects), [0, 0]);
    } finally {
      await store.close();
    }
  });

  it('a delete of another variant or another key leaves the writer alone', async () => {
    const store = await tiered();
    try {
      const w = store.write(initFor(URL, 'dmFyaWFudEFhYWFhYWFhYWFh'));
      await w.write(Buffer.from('a'));
      await store.delete(URL, 'dmFyaWFudEJiYmJiYmJiYmJi');
      await store.delete(`${URL}-other`);
      await store.deletePrefix('http://elsewhere.test/');
      await w.commit();
      assert.equal((await store.lookup(URL)).length, 1);
    } finally {
      await store.close();
    }
  });

  it('a prefix delete covers writers in flight under it', async () => {
    const store = await tiered();
    try {
      const w = store.write(initFor(URL));
      await w.write(Buffer.from('p'));
      await store.deletePrefix('http://origin.test/test/');
      await assert.rejects(w.commit());
      assert.deepEqual(await store.lookup(URL), []);
    } finally {
      await store.close();
    }
  });

  it('the disk store alone: a delete queued behind a commit sees and removes it', async () => {
    const disk = await LmdbStore.open({ dir: join(root, `d${n++}`), budget: 1e8, maxObjectSize: 1e6 });
    try {
      const w = disk.write(initFor(URL));
      await w.write(bodyFor('q', 1000));
      const committing = w.commit();
      const deleting = disk.delete(URL);
      await committing;
      assert.equal(await deleting, 1);
      assert.deepEqual(await disk.lookup(URL), []);
    } finally {
      await disk.close();
    }
  });
});
