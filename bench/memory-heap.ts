/**
 * Bytes per cached object, by heap accounting: an in-process larder (reverse, memory store, log off) is
 * filled with N x 1 KiB objects over HTTP, and V8 heap used + external memory are taken after a full GC
 * before and after; growth / N is what one entry costs (body, meta, index, LRU node, and anything else
 * the core keeps per key). Needs --expose-gc.
 * Run: node --expose-gc --import tsx bench/memory-heap.ts   (COUNTS=10000,100000 SIZE=1024)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { fillObjects } from './support.js';
import { startLarder } from '../src/app.js';
import { makeConfig } from '../src/config/load.js';
import { MemoryStore } from '../src/store/memory.js';

const COUNTS = (process.env.COUNTS ?? '10000,100000').split(',').map(Number);
const SIZE = Number(process.env.SIZE ?? 1024);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) { console.error('run with node --expose-gc'); process.exit(2); }

function used(): number {
  for (let i = 0; i < 3; i++) gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const body = Buffer.alloc(SIZE, 'x');
const origin = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, 'cache-control': 'max-age=3600', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' });
  res.end(body);
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const config = makeConfig({ port: 0, adminPort: 0, accessLog: 'off', logLevel: 'silent', disk: false, upstream: `http://127.0.0.1:${(origin.address() as AddressInfo).port}`, memorySize: 2 ** 30 });
const store = new MemoryStore({ budget: config.memorySize, maxObjectSize: config.maxObjectSize });
const larder = await startLarder(config, { log: pino({ level: 'silent' }), store });
await fillObjects(larder.port, 0, 200);
const base = used();
let filled = 0;
for (const n of COUNTS) {
  await fillObjects(larder.port, filled + 200, n + 200);
  filled = n;
  const before = process.memoryUsage();
  const grown = used() - base;
  const after = process.memoryUsage();
  const mb = (x: number) => (x / 1e6).toFixed(1);
  console.log(`  before GC: heapTotal ${mb(before.heapTotal)} heapUsed ${mb(before.heapUsed)} external ${mb(before.external)} rss ${mb(before.rss)} MB; after: heapTotal ${mb(after.heapTotal)} heapUsed ${mb(after.heapUsed)} rss ${mb(after.rss)} MB`);
  const objects = store.stats().objects;
  console.log(`after ${n} x ${SIZE} B (store holds ${objects}): heap+external grew ${(grown / 1e6).toFixed(1)} MB, ${(grown / n).toFixed(0)} B per object (${(grown / n - SIZE).toFixed(0)} B beyond the body)`);
}
if (process.env.SHOW_META) {
  const s = store as unknown as { index: Map<string, { metas: unknown[] }> };
  const [k, rec] = [...s.index.entries()][0]!;
  console.log(k, JSON.stringify(rec.metas[0], null, 1));
}
await larder.close();
origin.close();
