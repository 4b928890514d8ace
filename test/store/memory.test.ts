import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryStore } from '../../src/store/memory.js';
import { bodyFor, initFor, put, runStoreSuite } from './suite.js';

runStoreSuite('memory', async (o) => new MemoryStore(o));

describe('MemoryStore specifics', () => {
  it('returns small bodies as Buffers, ranges as views without copying', async () => {
    const store = new MemoryStore({ budget: 1e7, maxObjectSize: 1e7 });
    const meta = await put(store, initFor('http://m/a'), bodyFor('a', 1000));
    const whole = await store.read(meta);
    const part = await store.read(meta, { start: 100, end: 199 });
    assert.ok(Buffer.isBuffer(whole) && Buffer.isBuffer(part));
    assert.equal(part.buffer, whole.buffer, 'the range is a view of the stored body');
    assert.equal(part.length, 100);
  });

  it('lookup resolves the same frozen metadata on every hit', async () => {
    const store = new MemoryStore({ budget: 1e7, maxObjectSize: 1e7 });
    await put(store, initFor('http://m/b'), Buffer.from('x'));
    const a = await store.lookup('http://m/b');
    const b = await store.lookup('http://m/b');
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a[0]) && Object.isFrozen(a[0]!.headers));
  });
});
