import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { openStore } from '../../src/store/open.js';
import { TieredStore } from '../../src/store/tiered.js';
import { tempDir } from './helpers.js';
import { bodyFor, drain, initFor, put, runStoreSuite } from './suite.js';

const root = tempDir();
let n = 0;
runStoreSuite('tiered', async (o) => {
  const memory = new MemoryStore({ budget: o.budget, maxObjectSize: o.maxObjectSize });
  const disk = await LmdbStore.open({ dir: join(root, `s${n++}`), budget: o.budget, maxObjectSize: o.maxObjectSize });
  return new TieredStore(memory, disk);
});

describe('TieredStore specifics', () => {
  it('writes to both tiers; a disk hit is promoted to memory on read', async () => {
    const dir = join(root, 'promote');
    const first = await openStore({ memorySize: 1e7, maxObjectSize: 1e7, disk: true, cacheDir: dir, cacheSize: 1e8, eviction: 'lru' });
    const body = bodyFor('p', 4000);
    await put(first, initFor('http://t/p'), body);
    assert.deepEqual(first.tierStats().map((s) => [s.tier, s.objects]), [['memory', 1], ['lmdb', 1]]);
    await first.close();

    const second = await openStore({ memorySize: 1e7, maxObjectSize: 1e7, disk: true, cacheDir: dir, cacheSize: 1e8, eviction: 'lru' });
    try {
      const [meta] = await second.lookup('http://t/p');
      assert.ok(meta, 'found on disk after reopen');
      assert.equal(second.tierStats()[0]!.objects, 0);
      assert.deepEqual(await drain(await second.read(meta, { start: 0, end: 9 })), body.subarray(0, 10));
      assert.equal(second.tierStats()[0]!.objects, 1, 'promoted');
      const memHitsBefore = second.tierStats()[0]!.hits;
      const [again] = await second.lookup('http://t/p');
      assert.deepEqual(await drain(await second.read(again!)), body);
      assert.equal(second.tierStats()[0]!.hits, memHitsBefore + 1, 'second lookup served by memory');
      assert.equal(await second.delete('http://t/p'), 1);
      assert.deepEqual(second.tierStats().map((s) => s.objects), [0, 0]);
    } finally {
      await second.close();
    }
  });

  it('openStore with disk=false is memory only', async () => {
    const s = await openStore({ memorySize: 1e6, maxObjectSize: 1e5, disk: false, cacheDir: '/nonexistent', cacheSize: 0, eviction: 'lru' });
    assert.deepEqual(s.tierStats().map((t) => t.tier), ['memory']);
    await s.close();
  });
});

it('a lookup finds every variant even when memory holds only some of them', async () => {
  const disk = new MemoryStore({ budget: 1e6, maxObjectSize: 1e5 });
  const memory = new MemoryStore({ budget: 1e6, maxObjectSize: 1e5 });
  const tiered = new TieredStore(memory, disk);
  const meta = (variant: string) => ({
    key: 'http://v.test/', variant, vary: ['accept-language'], varyValues: [variant], status: 200,
    headers: [] as [string, string][], storedAt: Date.now(),
    policy: { correctedInitialAge: 0, responseTime: Date.now(), requestTime: Date.now(), freshnessLifetime: 60, heuristic: false, mustRevalidate: false, noCache: false, staleWhileRevalidate: 0, staleIfError: 0, immutable: false },
  });
  for (const v of ['en', 'fr']) {
    const w = disk.write(meta(v));
    await w.write(Buffer.from(v));
    await w.commit();
  }
  const w = memory.write(meta('en'));
  await w.write(Buffer.from('en'));
  await w.commit();
  const found = (await tiered.lookup('http://v.test/')).map((e) => e.variant).sort();
  assert.deepEqual(found, ['en', 'fr']);
});
