/**
 * Growth benchmark: hit latency (store lookup + body read of a random cached key) as the number of cached
 * objects grows from 10^3 to 10^6, on the memory tier and on the default tiered store (memory 256 MB in
 * front of LMDB). Entries are small (128 B bodies, one header field) and are written straight through the
 * Store API. Each (store, N) runs in a fresh child process (so one fill's heap does not weigh on the next),
 * which fills, then times SAMPLES lookups+reads of uniformly random keys (p50 / p99 / max in µs).
 * The target: p50 and p99 at 10^6 within 20% of the figures at 10^3.
 * Run: node --import tsx bench/growth.ts   (COUNTS=1000,10000,100000,1000000 STORES=memory,tiered SAMPLES=20000)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { openStore } from '../src/store/open.js';
import type { EntryInit, Store } from '../src/store/types.js';

const SIZE = Number(process.env.SIZE ?? 128);
const SAMPLES = Number(process.env.SAMPLES ?? 20_000);
const INFLIGHT = 64;

const policy = { correctedInitialAge: 0, responseTime: 0, requestTime: 0, freshnessLifetime: 3600, heuristic: false, mustRevalidate: false, noCache: false, staleWhileRevalidate: 0, staleIfError: 0, immutable: false };
const keyOf = (i: number) => `http://origin.test/k/${i}`;
const init = (i: number): EntryInit => ({ key: keyOf(i), variant: '', vary: [], varyValues: [], status: 200, headers: [['content-type', 'application/octet-stream']], policy, storedAt: 0 });

async function fill(store: Store, n: number): Promise<number> {
  const body = Buffer.alloc(SIZE, 'x');
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const w = store.write(init(next++));
      await w.write(body);
      await w.commit();
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, worker));
  return performance.now() - t0;
}

async function drain(body: Buffer | Readable): Promise<number> {
  if (Buffer.isBuffer(body)) return body.length;
  let n = 0;
  for await (const c of body) n += (c as Buffer).length;
  return n;
}

/** one child: fill `n`, then time random hits; prints one JSON line */
async function child(kind: string, n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'larder-growth-'));
  try {
    const store = await openStore({ memorySize: kind === 'memory' ? 8 * 2 ** 30 : 256 * 2 ** 20, maxObjectSize: 2 ** 26, disk: kind !== 'memory', cacheDir: dir, cacheSize: 16 * 2 ** 30, eviction: 'lru' });
    const fillMs = await fill(store, n);
    const lat = new Float64Array(SAMPLES);
    let seed = 12345;
    const rand = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
    for (let i = 0; i < 2000; i++) { const m = (await store.lookup(keyOf(rand() % n)))[0]!; await drain((await store.read(m))!); } // warm the code
    for (let i = 0; i < SAMPLES; i++) {
      const key = keyOf(rand() % n);
      const t0 = performance.now();
      const metas = await store.lookup(key);
      const body = await store.read(metas[0]!);
      if (body === undefined || (await drain(body)) !== SIZE) throw new Error(`missing ${key}`);
      lat[i] = (performance.now() - t0) * 1000;
    }
    lat.sort();
    const at = (p: number) => lat[Math.min(SAMPLES - 1, Math.ceil(p * SAMPLES) - 1)]!;
    await store.close?.();
    console.log(JSON.stringify({ kind, n, fillMs, p50: at(0.5), p99: at(0.99), max: lat[SAMPLES - 1] }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.GROWTH_CHILD) {
  const [kind, n] = process.env.GROWTH_CHILD.split(':');
  await child(kind!, Number(n));
} else {
  const counts = (process.env.COUNTS ?? '1000,10000,100000,1000000').split(',').map(Number);
  const stores = (process.env.STORES ?? 'memory,tiered').split(',');
  console.log(`growth: lookup + read of a random cached key, ${SIZE} B bodies, ${SAMPLES} samples, in-process (µs)`);
  console.log('store    objects     fill s   p50 µs   p99 µs   max µs   p50/p50@first  p99/p99@first');
  for (const kind of stores) {
    let first: { p50: number; p99: number } | undefined;
    for (const n of counts) {
      const r = spawnSync(process.execPath, ['--max-old-space-size=12288', '--import', 'tsx', new URL(import.meta.url).pathname], { env: { ...process.env, GROWTH_CHILD: `${kind}:${n}` }, encoding: 'utf8', maxBuffer: 1 << 20 });
      const line = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !line.startsWith('{')) { console.log(`${kind} ${n}: failed (${r.status}) ${r.stderr.slice(-500)}`); process.exitCode = 1; continue; }
      const x = JSON.parse(line) as { fillMs: number; p50: number; p99: number; max: number };
      first ??= x;
      console.log(`${kind.padEnd(8)} ${String(n).padStart(8)} ${(x.fillMs / 1000).toFixed(1).padStart(9)} ${x.p50.toFixed(1).padStart(8)} ${x.p99.toFixed(1).padStart(8)} ${x.max.toFixed(0).padStart(8)} ${(x.p50 / first.p50).toFixed(2).padStart(14)} ${(x.p99 / first.p99).toFixed(2).padStart(14)}`);
    }
  }
}
