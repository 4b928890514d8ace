import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LmdbStore, readStoreStats } from '../../src/store/lmdb.js';
import { tempDir } from './helpers.js';
import { bodyFor, drain, initFor, put, runStoreSuite } from './suite.js';

const root = tempDir();
let n = 0;
runStoreSuite('lmdb', async (o) => LmdbStore.open({ dir: join(root, `s${n++}`), ...o }));
runStoreSuite('lmdb gdsf', async (o) => LmdbStore.open({ dir: join(root, `g${n++}`), ...o, eviction: 'gdsf' }));

describe('LmdbStore persistence', () => {
  it('keeps entries across close and reopen, with counters', async () => {
    const dir = join(root, 'persist');
    const a = await LmdbStore.open({ dir, budget: 1e8, maxObjectSize: 1e7 });
    const body = bodyFor('persist', 700_000);
    await put(a, initFor('http://p/1'), body);
    await put(a, initFor('http://p/2'), Buffer.from('two'));
    await a.close();
    const stats = await readStoreStats(dir);
    assert.equal(stats.objects, 2);
    assert.ok(stats.bytes > 700_000);
    assert.equal(stats.budget, 1e8);
    const b = await LmdbStore.open({ dir, budget: 1e8, maxObjectSize: 1e7 });
    try {
      const [m] = await b.lookup('http://p/1');
      assert.deepEqual(await drain(await b.read(m!)), body);
      assert.equal(b.stats().objects, 2);
    } finally {
      await b.close();
    }
  });

  it('holds the byte budget after writing twice the budget', async () => {
    const dir = join(root, 'budget');
    const budget = 8 * 1024 * 1024;
    const s = await LmdbStore.open({ dir, budget, maxObjectSize: 2 * 1024 * 1024 });
    try {
      let written = 0;
      for (let i = 0; written < 2 * budget; i++) {
        const size = 1000 + ((i * 7919) % (1024 * 1024));
        await put(s, initFor(`http://b/${i}`), bodyFor(String(i), size));
        written += size;
        assert.ok(s.stats().bytes <= budget, `after ${i}: ${s.stats().bytes} <= ${budget}`);
      }
      assert.ok(s.stats().evictions > 0);
    } finally {
      await s.close();
    }
  });
});
