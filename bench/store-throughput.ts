/**
 * Read and write throughput of the memory and LMDB stores for 1 KiB and 1 MiB objects, next to a baseline
 * measured in the same run (fs.writeFile / fs.readFile of the same bytes, one file per object).
 * `write` is one writer at a time (latency-bound); `write ×32` keeps 32 writes in flight, as a proxy storing
 * many misses at once does (the LMDB store groups those commits into shared transactions).
 * fs.writeFile does not fsync; the LMDB store's commits are fsynced (off the JS thread), so the fs baseline
 * is a bound on what a store could do, not a like-for-like durable write.
 * Run: node --import tsx bench/store-throughput.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LmdbStore } from '../src/store/lmdb.js';
import { MemoryStore } from '../src/store/memory.js';
import type { EntryInit, Store } from '../src/store/types.js';

const root = mkdtempSync(join(tmpdir(), 'larder-bench-'));
const init = (key: string): EntryInit => ({
  key, variant: '', vary: [], varyValues: [], status: 200, headers: [['content-type', 'application/octet-stream']],
  policy: { correctedInitialAge: 0, responseTime: 0, requestTime: 0, freshnessLifetime: 60, heuristic: false, mustRevalidate: false, noCache: false, staleWhileRevalidate: 0, staleIfError: 0, immutable: false },
  storedAt: 0,
});

interface Row { target: string; size: string; op: string; opsPerSec: number; mbPerSec: number }
const rows: Row[] = [];

const CONCURRENCY = 32;

async function time(label: [string, string, string], count: number, bytes: number, fn: (i: number) => Promise<unknown>, concurrency = 1): Promise<void> {
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (performance.now() - t0) / 1000;
  rows.push({ target: label[0], size: label[1], op: label[2], opsPerSec: count / s, mbPerSec: (count * bytes) / s / 1e6 });
}

async function consume(src: Buffer | Readable | undefined): Promise<number> {
  if (src === undefined) throw new Error('entry missing');
  if (Buffer.isBuffer(src)) return src.length;
  let n = 0;
  for await (const c of src) n += (c as Buffer).length;
  return n;
}

async function benchStore(name: string, store: Store, size: number, count: number, sizeLabel: string): Promise<void> {
  const body = Buffer.alloc(size, 42);
  const store1 = async (key: string): Promise<void> => {
    const w = store.write(init(key));
    await w.write(body);
    await w.commit();
  };
  await time([name, sizeLabel, `write ×${CONCURRENCY}`], count, size, (i) => store1(`http://bench/${sizeLabel}/c${i}`), CONCURRENCY);
  await time([name, sizeLabel, 'write'], count, size, (i) => store1(`http://bench/${sizeLabel}/${i}`));
  await time([name, sizeLabel, 'read'], count, size, async (i) => {
    const [m] = await store.lookup(`http://bench/${sizeLabel}/${i}`);
    await consume(await store.read(m!));
  });
}

async function benchFs(size: number, count: number, sizeLabel: string): Promise<void> {
  const dir = join(root, `fs-${sizeLabel}`);
  await mkdir(dir);
  const body = Buffer.alloc(size, 42);
  await time(['fs baseline', sizeLabel, `write ×${CONCURRENCY}`], count, size, (i) => writeFile(join(dir, `c${i}`), body), CONCURRENCY);
  await time(['fs baseline', sizeLabel, 'write'], count, size, (i) => writeFile(join(dir, String(i)), body));
  await time(['fs baseline', sizeLabel, 'read'], count, size, (i) => readFile(join(dir, String(i))));
}

const cases: [number, number, string][] = [
  [1024, 8_000, '1 KiB'],
  [1024 * 1024, 400, '1 MiB'],
];
const started = performance.now();
try {
  for (const [size, count, label] of cases) {
    await benchFs(size, count, label);
    const mem = new MemoryStore({ budget: 2e9, maxObjectSize: 1e8 });
    await benchStore('memory', mem, size, count, label);
    await mem.close();
    const disk = await LmdbStore.open({ dir: join(root, `lmdb-${size}`), budget: 4e9, maxObjectSize: 1e8 });
    await benchStore('lmdb', disk, size, count, label);
    await disk.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const base = new Map(rows.filter((r) => r.target === 'fs baseline').map((r) => [`${r.size}/${r.op}`, r.opsPerSec]));
console.log('store        size   op           ops/s      MB/s   × fs baseline');
for (const r of rows) {
  const rel = r.opsPerSec / base.get(`${r.size}/${r.op}`)!;
  console.log(`${r.target.padEnd(12)} ${r.size.padEnd(6)} ${r.op.padEnd(10)} ${r.opsPerSec.toFixed(0).padStart(9)} ${r.mbPerSec.toFixed(1).padStart(9)}   ${rel.toFixed(2).padStart(6)}`);
}
console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
