/**
 * The cluster's figures as one: /metrics and /stats in the primary, summed over the workers.
 *
 * Counters, histograms, connection gauges and per-worker memory tiers are summed. A shared tier (the
 * lmdb disk store: every worker reads the same account in the same directory) is taken from one worker
 * only, else it would be counted once per worker. Ratios are recomputed from the sums, latency
 * percentiles from the workers' recent samples together, the top lists from the workers' top lists.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import { percentilesOf, type StatsSnapshot } from '../admin/metrics.js';
import type { TopEntry } from '../admin/top.js';
import type { StoreStats } from '../store/types.js';
import type { WorkerMetrics, WorkerStats } from './cluster-messages.js';

/** Tiers private to each process; any other tier is shared by all the workers. */
const PER_PROCESS_TIERS = new Set(['memory']);
const STORE_METRIC = /^larder_store_/;
const TOP_REPORTED = 10;

/** One Prometheus registry from the workers' (plus the primary's own metrics). */
export function aggregateMetrics(workers: WorkerMetrics[], primary: WorkerMetrics = []): Registry {
  const parts = workers.map((metrics, i) => i === 0 ? metrics : metrics.map((m) => STORE_METRIC.test(m.name)
    ? { ...m, values: m.values.filter((v) => PER_PROCESS_TIERS.has(String(v.labels.tier))) }
    : m));
  return AggregatorRegistry.aggregate([...parts, primary]) as Registry;
}

function sumRecords<K extends string>(rs: Record<K, number>[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const r of rs) for (const k of Object.keys(r) as K[]) out[k] = (out[k] ?? 0) + r[k];
  return out;
}

function sum(xs: number[]): number {
  return xs.reduce((a, n) => a + n, 0);
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function mergeTop(lists: TopEntry[][]): TopEntry[] {
  const by = new Map<string, TopEntry>();
  for (const list of lists) {
    for (const e of list) {
      const t = by.get(e.key);
      if (t) { t.count += e.count; t.error += e.error; } else by.set(e.key, { ...e });
    }
  }
  return [...by.values()].sort((a, b) => b.count - a.count).slice(0, TOP_REPORTED);
}

function mergeStore(lists: StoreStats[][]): StoreStats[] {
  const out: StoreStats[] = [];
  const fields = ['objects', 'bytes', 'budget', 'evictions', 'hits', 'misses'] as const;
  for (const [i, list] of lists.entries()) {
    for (const s of list) {
      const t = out.find((o) => o.tier === s.tier);
      if (!t) { out.push({ ...s }); continue; }
      // a shared tier: every worker reports the same account, keep the first. Per-process tiers add up.
      if (i > 0 && PER_PROCESS_TIERS.has(s.tier)) for (const f of fields) t[f] += s[f];
    }
  }
  return out;
}

/** One snapshot from the workers' snapshots. */
export function mergeSnapshots(parts: WorkerStats[], now = Date.now()): StatsSnapshot {
  if (parts.length === 0) throw new Error('no worker answered');
  const snaps = parts.map((p) => p.snapshot);
  const t = snaps.map((s) => s.totals);
  const byCache = sumRecords(t.map((x) => x.byCache));
  const bytesFromCache = sum(t.map((x) => x.bytesFromCache));
  const bytesFromUpstream = sum(t.map((x) => x.bytesFromUpstream));
  const r = snaps.map((s) => s.rates);
  const rateByCache = sumRecords(r.map((x) => x.byCache));
  const cacheBytesPerSecond = sum(r.map((x) => x.cacheBytesPerSecond));
  const upstreamBytesPerSecond = sum(r.map((x) => x.upstreamBytesPerSecond));
  const fromCache = (b: typeof byCache) => b.hit + b.stale + b.revalidated;
  return {
    time: now,
    startedAt: Math.min(...snaps.map((s) => s.startedAt)),
    totals: {
      requests: sum(t.map((x) => x.requests)),
      byCache,
      byClass: sumRecords(t.map((x) => x.byClass)),
      bytesFromCache,
      bytesFromUpstream,
      collapsed: sum(t.map((x) => x.collapsed)),
      revalidations: sumRecords(t.map((x) => x.revalidations)),
      upstreamErrors: sum(t.map((x) => x.upstreamErrors)),
      authFailures: sum(t.map((x) => x.authFailures)),
      denied: sum(t.map((x) => x.denied)),
    },
    hitRatio: ratio(fromCache(byCache), fromCache(byCache) + byCache.miss),
    byteHitRatio: ratio(bytesFromCache, bytesFromCache + bytesFromUpstream),
    bytesSaved: bytesFromCache,
    rates: {
      windowSeconds: Math.max(...r.map((x) => x.windowSeconds)),
      requestsPerSecond: sum(r.map((x) => x.requestsPerSecond)),
      byCache: rateByCache,
      cacheBytesPerSecond,
      upstreamBytesPerSecond,
      hitRatio: ratio(fromCache(rateByCache), fromCache(rateByCache) + rateByCache.miss),
      byteHitRatio: ratio(cacheBytesPerSecond, cacheBytesPerSecond + upstreamBytesPerSecond),
    },
    latency: {
      requestMs: percentilesOf(parts.flatMap((p) => p.samples.requestMs)),
      upstreamMs: percentilesOf(parts.flatMap((p) => p.samples.upstreamMs)),
    },
    connections: sum(snaps.map((s) => s.connections)),
    tunnels: sum(snaps.map((s) => s.tunnels)),
    store: mergeStore(snaps.map((s) => s.store)),
    top: {
      hostsByHits: mergeTop(snaps.map((s) => s.top.hostsByHits)),
      hostsByBytes: mergeTop(snaps.map((s) => s.top.hostsByBytes)),
      urlsByHits: mergeTop(snaps.map((s) => s.top.urlsByHits)),
      urlsByBytes: mergeTop(snaps.map((s) => s.top.urlsByBytes)),
    },
  };
}
