/**
 * Fills in flight are bounded in bytes (issue 12 item 4, the store's part): a memory-tier writer buffers a
 * whole body until commit, so N fills of up to max-object-size used to hold N × max-object-size outside the
 * memory budget. They now count against one in-flight budget per process; past it a fill gives up its
 * memory copy (the tiered store keeps writing it to disk). Pending chunks on disk count against the disk
 * budget: see test/store/multiprocess.test.ts ("bodies in flight count against it").
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TieredStore } from '../../src/store/tiered.js';
import type { EntryWriter } from '../../src/store/types.js';
import { tempDir } from '../store/helpers.js';
import { bodyFor, drain, initFor } from '../store/suite.js';

const MiB = 1024 * 1024;
const PIECE = 64 * 1024;

/** Feed `n` writers one piece each in turn (interleaved, as concurrent slow fills are); returns who failed. */
async function interleave(writers: EntryWriter[], size: number): Promise<Set<number>> {
  const failed = new Set<number>();
  const bodies = writers.map((_, i) => bodyFor(`fill-${i}`, size));
  for (let at = 0; at < size; at += PIECE) {
    for (let i = 0; i < writers.length; i++) {
      if (failed.has(i)) continue;
      try {
        await writers[i]!.write(bodies[i]!.subarray(at, at + PIECE));
      } catch (err) {
        assert.equal((err as { code?: string }).code, 'LARDER_ERR_STORE_FULL');
        failed.add(i);
      }
    }
  }
  return failed;
}

describe('fills in flight are bounded in bytes', () => {
  it('memory-tier writers together never hold more than the in-flight budget', async () => {
    const memory = new MemoryStore({ budget: 16 * MiB, maxObjectSize: 4 * MiB, inflightBudget: 4 * MiB });
    const writers = Array.from({ length: 10 }, (_, i) => memory.write(initFor(`http://fill/${i}`)));
    const bodies = writers.map((_, i) => bodyFor(`fill-${i}`, MiB));
    let peak = 0;
    const failed = new Set<number>();
    for (let at = 0; at < MiB; at += PIECE) {
      for (let i = 0; i < writers.length; i++) {
        if (failed.has(i)) continue;
        await Promise.resolve(writers[i]!.write(bodies[i]!.subarray(at, at + PIECE))).catch((err: { code?: string }) => {
          assert.equal(err.code, 'LARDER_ERR_STORE_FULL');
          failed.add(i);
        });
        peak = Math.max(peak, memory.inflightBytes);
      }
    }
    assert.ok(peak <= 4 * MiB, `peak in flight ${peak} within 4 MiB`);
    assert.ok(failed.size >= 6, `${failed.size} fills gave up storing`);
    assert.equal(memory.stats().refused?.inflight, failed.size, 'counted');
    // the ones that kept going are stored whole, and their bytes leave the in-flight account
    for (let i = 0; i < writers.length; i++) if (!failed.has(i)) await writers[i]!.commit();
    assert.equal(memory.inflightBytes, 0);
    const stored = [...Array(10).keys()].filter((i) => !failed.has(i));
    for (const i of stored) {
      const [meta] = await memory.lookup(`http://fill/${i}`);
      assert.ok(meta, `fill ${i} stored`);
      assert.deepEqual(await drain(await memory.read(meta)), bodies[i]);
    }
    // capacity comes back once fills end: an abort gives its bytes back too
    const w = memory.write(initFor('http://fill/again'));
    await w.write(Buffer.alloc(2 * MiB));
    assert.equal(memory.inflightBytes, 2 * MiB);
    w.abort();
    assert.equal(memory.inflightBytes, 0);
  });

  it('a tiered fill past the memory in-flight budget spills to disk only', { timeout: 30_000 }, async () => {
    const disk = await LmdbStore.open({ dir: tempDir(), budget: 64 * MiB, maxObjectSize: 8 * MiB });
    const memory = new MemoryStore({ budget: 16 * MiB, maxObjectSize: 4 * MiB, inflightBudget: 2 * MiB });
    const store = new TieredStore(memory, disk);
    after(() => store.close());
    const writers = Array.from({ length: 6 }, (_, i) => store.write(initFor(`http://spill/${i}`)));
    const failed = await interleave(writers, MiB);
    assert.equal(failed.size, 0, 'no fill fails: the disk takes them');
    for (const w of writers) await w.commit();
    assert.ok(memory.stats().objects <= 2, `memory kept at most what its in-flight budget allowed (${memory.stats().objects})`);
    assert.equal(disk.stats().objects, 6, 'all six on disk');
    for (let i = 0; i < 6; i++) {
      const [meta] = await store.lookup(`http://spill/${i}`);
      assert.deepEqual(await drain(await store.read(meta!)), bodyFor(`fill-${i}`, MiB));
    }
  });
});
