/**
 * One test suite run against every store (undici's habit): the Store contract, independent of the tier.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BodySource, EntryInit, EntryMeta, Store } from '../../src/store/types.js';

export interface StoreFactoryOptions {
  budget: number;
  maxObjectSize: number;
}
export type MakeStore = (opts: StoreFactoryOptions) => Promise<Store>;

export function initFor(key: string, variant = '', extra: Partial<EntryInit> = {}): EntryInit {
  return {
    key,
    variant,
    vary: variant === '' ? [] : ['accept-encoding'],
    varyValues: variant === '' ? [] : [variant],
    status: 200,
    headers: [['content-type', 'text/plain'], ['etag', `"${key}"`]],
    policy: {
      correctedInitialAge: 0,
      responseTime: 1_700_000_000_000,
      requestTime: 1_700_000_000_000,
      freshnessLifetime: 60,
      heuristic: false,
      mustRevalidate: false,
      noCache: false,
      staleWhileRevalidate: 0,
      staleIfError: 0,
      immutable: false,
    },
    storedAt: 1_700_000_000_000,
    ...extra,
  };
}

/** Deterministic body bytes for a key (so a reader can check what a writer stored). */
export function bodyFor(seed: string, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at, 0, Math.min(block.length, size - at));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

export async function put(store: Store, init: EntryInit, body: Buffer, piece = 65_536): Promise<EntryMeta> {
  const w = store.write(init);
  for (let at = 0; at < body.length; at += piece) await w.write(body.subarray(at, at + piece));
  return w.commit();
}

export async function drain(src: BodySource | undefined): Promise<Buffer | undefined> {
  if (src === undefined) return undefined;
  if (Buffer.isBuffer(src)) return src;
  const parts: Buffer[] = [];
  for await (const c of src as Readable) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export function runStoreSuite(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const MiB = 1024 * 1024;
    before(async () => {
      store = await makeStore({ budget: 64 * MiB, maxObjectSize: 8 * MiB });
    });
    after(async () => {
      await store.close();
    });

    it('writes, commits, looks up and reads back a body', async () => {
      const body = bodyFor('a', 5000);
      const meta = await put(store, initFor('http://t/a'), body);
      assert.equal(meta.size, 5000);
      assert.equal(meta.digest, createHash('sha256').update(body).digest('base64'));
      const found = await store.lookup('http://t/a');
      assert.equal(found.length, 1);
      assert.equal(found[0]!.status, 200);
      assert.deepEqual(found[0]!.headers, [['content-type', 'text/plain'], ['etag', '"http://t/a"']]);
      assert.deepEqual(await drain(await store.read(found[0]!)), body);
    });

    it('an entry is invisible before commit, and abort discards it', async () => {
      const w = store.write(initFor('http://t/pending'));
      await w.write(Buffer.from('hello'));
      assert.deepEqual(await store.lookup('http://t/pending'), []);
      w.abort();
      w.abort(); // idempotent
      assert.deepEqual(await store.lookup('http://t/pending'), []);
      await assert.rejects(async () => w.commit());
      assert.deepEqual(await store.lookup('http://t/pending'), []);
    });

    it('commit rejects a body shorter than expectedSize and stores nothing', async () => {
      const w = store.write(initFor('http://t/short', '', { expectedSize: 100 }));
      await w.write(Buffer.alloc(60, 1));
      await assert.rejects(w.commit(), (err: Error & { code?: string }) => err.code === 'LARDER_ERR_STORE_SIZE');
      assert.deepEqual(await store.lookup('http://t/short'), []);
    });

    it('rejects a body longer than expectedSize or than maxObjectSize', async () => {
      const w = store.write(initFor('http://t/long', '', { expectedSize: 10 }));
      await assert.rejects(async () => w.write(Buffer.alloc(11)));
      await assert.rejects(w.commit());
      const big = store.write(initFor('http://t/huge'));
      await assert.rejects(async () => {
        for (let i = 0; i < 20; i++) await big.write(Buffer.alloc(MiB));
      }, (err: Error & { code?: string }) => err.code === 'LARDER_ERR_STORE_TOO_LARGE');
      await assert.rejects(big.commit());
      assert.deepEqual(await store.lookup('http://t/long'), []);
      assert.deepEqual(await store.lookup('http://t/huge'), []);
    });

    it('keeps several variants of a key, and replaces one on a new commit', async () => {
      await put(store, initFor('http://t/v', 'gzip'), Buffer.from('zipped'));
      await put(store, initFor('http://t/v', 'br'), Buffer.from('brotli'));
      await put(store, initFor('http://t/v', 'gzip'), Buffer.from('zipped2'));
      const found = await store.lookup('http://t/v');
      assert.deepEqual(found.map((m) => m.variant).sort(), ['br', 'gzip']);
      const gz = found.find((m) => m.variant === 'gzip')!;
      assert.equal((await drain(await store.read(gz)))!.toString(), 'zipped2');
      assert.equal(await store.delete('http://t/v', 'br'), 1);
      assert.deepEqual((await store.lookup('http://t/v')).map((m) => m.variant), ['gzip']);
    });

    it('reading an entry that was replaced returns undefined, not the other body', async () => {
      const old = await put(store, initFor('http://t/r'), Buffer.from('one'));
      await put(store, initFor('http://t/r'), Buffer.from('two!'));
      assert.equal(await store.read(old), undefined);
    });

    it('update replaces headers and keeps the body', async () => {
      const meta = await put(store, initFor('http://t/u'), Buffer.from('body stays'));
      await store.update({ ...meta, headers: [['etag', '"new"']], policy: { ...meta.policy, freshnessLifetime: 999 } });
      const [got] = await store.lookup('http://t/u');
      assert.deepEqual(got!.headers, [['etag', '"new"']]);
      assert.equal(got!.policy.freshnessLifetime, 999);
      assert.equal(got!.digest, meta.digest);
      assert.equal((await drain(await store.read(got!)))!.toString(), 'body stays');
    });

    it('delete removes every variant; deletePrefix removes every key under a prefix', async () => {
      await put(store, initFor('http://d/x', 'a'), Buffer.from('1'));
      await put(store, initFor('http://d/x', 'b'), Buffer.from('2'));
      assert.equal(await store.delete('http://d/x'), 2);
      assert.deepEqual(await store.lookup('http://d/x'), []);
      assert.equal(await store.delete('http://d/x'), 0);
      for (const p of ['http://p/1', 'http://p/2', 'http://p/2/deep', 'http://q/1']) await put(store, initFor(p), Buffer.from(p));
      assert.equal(await store.deletePrefix('http://p/'), 3);
      assert.deepEqual(await store.lookup('http://p/1'), []);
      assert.deepEqual(await store.lookup('http://p/2/deep'), []);
      assert.equal((await store.lookup('http://q/1')).length, 1);
    });

    it('serves byte ranges of small and large bodies', async () => {
      const small = bodyFor('small', 3000);
      const sm = await put(store, initFor('http://t/range-s'), small);
      assert.deepEqual(await drain(await store.read(sm, { start: 10, end: 19 })), small.subarray(10, 20));
      const large = bodyFor('large', 3 * MiB + 123);
      const lm = await put(store, initFor('http://t/range-l'), large, 100_000);
      const whole = await store.read(lm);
      assert.ok(whole instanceof Readable, 'a body above 1 MiB is streamed');
      assert.deepEqual(await drain(whole), large);
      const start = 256 * 1024 - 5;
      const end = 2 * MiB + 77;
      assert.deepEqual(await drain(await store.read(lm, { start, end })), large.subarray(start, end + 1));
      assert.deepEqual(await drain(await store.read(lm, { start: large.length - 3, end: large.length - 1 })), large.subarray(-3));
    });

    it('stats count objects, bytes, hits and misses', async () => {
      const before = store.stats();
      await put(store, initFor('http://s/1'), Buffer.alloc(1000, 1));
      await store.lookup('http://s/1');
      await store.lookup('http://s/none');
      const s = store.stats();
      assert.equal(s.objects, before.objects + 1);
      assert.ok(s.bytes >= before.bytes + 1000);
      assert.ok(s.hits >= before.hits + 1);
      assert.ok(s.misses >= before.misses + 1);
      assert.equal(s.budget, 64 * MiB);
    });
  });

  describe(`Store budget: ${name}`, () => {
    it('evicts to stay within the byte budget, least recently used first', async () => {
      const MiB = 1024 * 1024;
      const store = await makeStore({ budget: 4 * MiB, maxObjectSize: MiB });
      try {
        const body = Buffer.alloc(256 * 1024, 7);
        for (let i = 0; i < 40; i++) {
          await put(store, initFor(`http://b/${i}`), body);
          if (i >= 1) {
            // keep object 0 hot
            const [m] = await store.lookup('http://b/0');
            if (m) await drain(await store.read(m));
          }
        }
        const s = store.stats();
        assert.ok(s.bytes <= 4 * MiB, `bytes ${s.bytes} within budget`);
        assert.ok(s.evictions >= 20, `evictions counted: ${s.evictions}`);
        assert.ok(s.objects < 40 && s.objects >= 10, `objects ${s.objects}`);
        assert.deepEqual(await store.lookup('http://b/1'), [], 'an old cold entry went first');
        assert.equal((await store.lookup('http://b/39')).length, 1, 'the newest stays');
      } finally {
        await store.close();
      }
    });
  });
}
