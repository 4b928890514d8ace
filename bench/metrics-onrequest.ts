/**
 * Micro-benchmark: calls per second of Metrics.onRequest (the per-request metrics work), in-process.
 * METRICS_MODULE=path picks another implementation to compare (e.g. the previous one, copied from git),
 * so a before/after ratio can be taken in one run: the modules are measured interleaved, ROUNDS times each.
 * Run: node --import tsx bench/metrics-onrequest.ts   (CALLS=2000000 ROUNDS=3 URLS=10 METRICS_MODULE=...)
 */
import { pathToFileURL } from 'node:url';
import type { AccessRecord } from '../src/log/record.js';

const CALLS = Number(process.env.CALLS ?? 2_000_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const modules = [new URL('../src/admin/metrics.ts', import.meta.url).href];
if (process.env.METRICS_MODULE) modules.unshift(pathToFileURL(process.env.METRICS_MODULE).href);

/** URLS distinct URLs (default 10, or e.g. 10000 as in scenario S3, which keeps the top lists busy) */
const URLS = Number(process.env.URLS ?? 10);

function records(): AccessRecord[] {
  const base = { startTime: Date.now(), clientAddress: '127.0.0.1', httpVersion: '1.1', bytesReceived: 0, cacheStatus: 'larder; hit' };
  const out: AccessRecord[] = [];
  for (let i = 0; i < Math.max(64, URLS); i++) {
    const miss = i % 8 === 0;
    out.push({
      ...base, method: i % 16 === 0 ? 'HEAD' : 'GET', url: `http://origin.test/obj/${i % URLS}`, status: i % 32 === 0 ? 404 : 200,
      bytesSent: 1024, cache: miss ? 'miss' : 'hit', durationMs: 0.2 + (i % 7) * 0.4, upstreamMs: miss ? 1.5 : undefined,
    });
  }
  return out;
}

const recs = records();
const results = new Map<string, number[]>();
const impls: { name: string; make: () => { onRequest(r: AccessRecord): void; registry: { metrics(): Promise<string> } } }[] = [];
for (const m of modules) {
  const mod = (await import(m)) as typeof import('../src/admin/metrics.js');
  impls.push({ name: m.split('/').slice(-2).join('/'), make: () => new mod.Metrics({ storeStats: () => [], defaultMetrics: false }) });
}
for (let round = 0; round < ROUNDS; round++) {
  for (const impl of impls) {
    const metrics = impl.make();
    const n = recs.length;
    for (let i = 0; i < 100_000; i++) metrics.onRequest(recs[i % n]!); // warm up
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) metrics.onRequest(recs[i % n]!);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    await metrics.registry.metrics(); // a scrape, so collect() work is exercised (not timed)
    const list = results.get(impl.name) ?? [];
    list.push(CALLS / s);
    results.set(impl.name, list);
  }
}
const best = new Map([...results].map(([k, v]) => [k, Math.max(...v)]));
for (const [name, v] of best) console.log(`${name.padEnd(28)} ${(v / 1e6).toFixed(2)} M calls/s (best of ${ROUNDS}; all: ${results.get(name)!.map((x) => (x / 1e6).toFixed(2)).join(' ')})`);
if (best.size === 2) {
  const [a, b] = [...best.values()];
  console.log(`ratio current/baseline: ${(b! / a!).toFixed(2)}x`);
}
