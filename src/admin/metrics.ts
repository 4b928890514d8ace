/**
 * Prometheus metrics (prom-client, own Registry, names prefixed larder_) and the JSON snapshot behind
 * /stats, the dashboard and --summary.
 *
 * Counting rules (one place, so the core does not count twice):
 * - onRequest(record) counts requests, response classes, bytes, durations, and feeds the top lists;
 * - collapsed(), revalidation(), upstreamError(), authFailure(), denied() count those events and are
 *   called by the core where they happen (onRequest does not derive them from the record).
 *
 * Cluster mode (--workers N): every worker keeps its own Metrics; the primary answers /metrics by summing
 * the workers' registries (prom-client's AggregatorRegistry.aggregate) and /stats by merging their
 * snapshots (server/cluster-stats.ts). The store gauges of a shared tier (lmdb) are taken from one worker
 * only, since every worker reports the same shared figures; the memory tiers are per worker and summed.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AccessRecord, CacheResult, RequestObserver } from '../log/record.js';
import type { StoreStats } from '../store/types.js';
import { PlainHistogram } from './plain-histogram.js';
import { SpaceSaving, type TopEntry } from './top.js';

export const CACHE_RESULTS: readonly CacheResult[] = ['hit', 'stale', 'revalidated', 'miss', 'bypass', 'error'];
export type RevalidationOutcome = 'not-modified' | 'modified' | 'error';
const REVALIDATION_OUTCOMES: readonly RevalidationOutcome[] = ['not-modified', 'modified', 'error'];
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
type StatusClass = (typeof STATUS_CLASSES)[number];

/** Methods kept as label values; anything else is 'OTHER' (a client must not create label values at will). */
const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PURGE', 'OTHER'] as const;
const METHOD_INDEX = new Map<string, number>(METHOD_LABELS.slice(0, -1).map((m, i) => [m, i]));
const OTHER_METHOD = METHOD_LABELS.length - 1;
const CACHE_INDEX = new Map<CacheResult, number>(CACHE_RESULTS.map((c, i) => [c, i]));
/** Distinct free-form label values (error kinds, deny reasons) kept per metric before 'other'. */
const MAX_FREE_LABELS = 32;

/** served from the store: the response body did not come from upstream (indexes into CACHE_RESULTS) */
const FROM_CACHE = CACHE_RESULTS.map((c) => c === 'hit' || c === 'stale' || c === 'revalidated');
const ERROR_INDEX = CACHE_RESULTS.indexOf('error');

const RATE_WINDOW_SECONDS = 5;
const RING_SECONDS = 16; // > RATE_WINDOW_SECONDS + 1
const LATENCY_SAMPLES = 1024;
const TOP_CAPACITY = 128;
const TOP_REPORTED = 10;

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** samples the percentiles were computed from (the most recent requests, at most 1024) */
  samples: number;
}

export interface StatsSnapshot {
  /** ms since epoch when taken */
  time: number;
  /** ms since epoch when this Metrics was created */
  startedAt: number;
  totals: {
    requests: number;
    byCache: Record<CacheResult, number>;
    byClass: Record<StatusClass, number>;
    /** body bytes sent to clients from stored responses (hit, stale, revalidated) */
    bytesFromCache: number;
    /** body bytes sent to clients that came from upstream (miss, bypass, tunnels) */
    bytesFromUpstream: number;
    collapsed: number;
    revalidations: Record<RevalidationOutcome, number>;
    upstreamErrors: number;
    authFailures: number;
    denied: number;
  };
  /** since start: served from cache / (served from cache + miss); bypass and errors are not cache lookups. null before any */
  hitRatio: number | null;
  /** since start: bytesFromCache / (bytesFromCache + bytesFromUpstream) */
  byteHitRatio: number | null;
  /** bytes the origin did not have to send: equal to bytesFromCache */
  bytesSaved: number;
  /** over the last `windowSeconds` complete seconds */
  rates: {
    windowSeconds: number;
    requestsPerSecond: number;
    byCache: Record<CacheResult, number>;
    cacheBytesPerSecond: number;
    upstreamBytesPerSecond: number;
    hitRatio: number | null;
    byteHitRatio: number | null;
  };
  latency: { requestMs: Percentiles; upstreamMs: Percentiles };
  connections: number;
  tunnels: number;
  store: StoreStats[];
  /** heavy hitters (approximate, Space-Saving): hits = requests answered from the cache; bytes = body bytes sent */
  top: { hostsByHits: TopEntry[]; hostsByBytes: TopEntry[]; urlsByHits: TopEntry[]; urlsByBytes: TopEntry[] };
}

/** What the admin API reads: one process's Metrics, or the cluster primary's merged view of its workers. */
export interface MetricsView {
  registry: { metrics(): Promise<string>; readonly contentType: string };
  snapshot(): StatsSnapshot | Promise<StatsSnapshot>;
}

/** A counter kept as a plain number by the code that counts, read at scrape time. */
export interface PlainCounter {
  name: string;
  help: string;
  /** one label: read() then returns the count per label value */
  labels?: { name: string };
  read: () => number | Record<string, number>;
}

function num(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : 0;
}

export interface MetricsOptions {
  /** counters owned by other stages (plain numbers), exported under these names */
  plainCounters?: readonly PlainCounter[];
  /** pulled at scrape/snapshot time, for larder_store_* per tier */
  storeStats: () => StoreStats[];
  /** register prom-client's default process metrics (default true) */
  defaultMetrics?: boolean;
  /** clock, for tests */
  now?: () => number;
}

interface SecondBucket {
  second: number;
  byCache: number[]; // indexed like CACHE_RESULTS
  cacheBytes: number;
  upstreamBytes: number;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Per-request counting is plain number increments into fixed arrays (onRequest does no label lookups,
 * hashing or prom-client calls); the prom-client metrics read those numbers in their collect() callbacks
 * at scrape time, and the duration histograms are PlainHistograms exported in prom-client's shape. The
 * rare events (collapsed, revalidation, upstream errors, auth, denials) stay plain prom-client counters.
 */
export class Metrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly storeStats: () => StoreStats[];

  private readonly requestDuration: PlainHistogram;
  private readonly upstreamDuration: PlainHistogram;
  private readonly collapsedCounter: Counter<string>;
  private readonly revalidations: Counter<'outcome'>;
  private readonly upstreamErrors: Counter<'kind'>;
  private readonly authFailures: Counter<string>;
  private readonly deniedCounter: Counter<'reason'>;
  private readonly uncaughtErrors: Counter<'kind'>;

  // the per-request counts (read by the prom-client collect() callbacks and the snapshot)
  /** requests by method x cache result: index method * CACHE_RESULTS.length + cache */
  private readonly requestCounts = new Float64Array(METHOD_LABELS.length * CACHE_RESULTS.length);
  private readonly requestSlotsSeen: number[] = [];
  private readonly totalByCache = new Float64Array(CACHE_RESULTS.length);
  private readonly totalByClass = new Float64Array(STATUS_CLASSES.length);
  private readonly totalRevalidations = new Map<RevalidationOutcome, number>(REVALIDATION_OUTCOMES.map((o) => [o, 0]));
  private bytesFromCache = 0;
  private bytesFromUpstream = 0;
  private collapsedTotal = 0;
  private upstreamErrorTotal = 0;
  private authFailureTotal = 0;
  private deniedTotal = 0;
  private connections = 0;
  private tunnels = 0;
  private readonly errorKinds = new Set<string>();
  private readonly denyReasons = new Set<string>();

  private readonly ring: SecondBucket[] = Array.from({ length: RING_SECONDS }, () => ({ second: -1, byCache: CACHE_RESULTS.map(() => 0), cacheBytes: 0, upstreamBytes: 0 }));
  private readonly requestMs = new SampleRing(LATENCY_SAMPLES);
  private readonly upstreamMs = new SampleRing(LATENCY_SAMPLES);
  private readonly hostsByHits = new SpaceSaving(TOP_CAPACITY, 255);
  private readonly hostsByBytes = new SpaceSaving(TOP_CAPACITY, 255);
  private readonly urlsByHits = new SpaceSaving(TOP_CAPACITY, 256);
  private readonly urlsByBytes = new SpaceSaving(TOP_CAPACITY, 256);

  constructor(opts: MetricsOptions) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.storeStats = opts.storeStats;
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });

    const self = this; // the collect() callbacks run with `this` bound to the prom-client metric
    new Counter({
      name: 'larder_requests_total', help: 'Requests answered, by method and cache result', labelNames: ['method', 'cache'], registers,
      collect() {
        this.reset();
        for (const i of self.requestSlotsSeen) {
          this.inc({ method: METHOD_LABELS[Math.floor(i / CACHE_RESULTS.length)]!, cache: CACHE_RESULTS[i % CACHE_RESULTS.length]! }, self.requestCounts[i]!);
        }
      },
    });
    new Counter({
      name: 'larder_responses_total', help: 'Responses sent, by status class', labelNames: ['class'], registers,
      collect() {
        this.reset();
        STATUS_CLASSES.forEach((c, i) => this.inc({ class: c }, self.totalByClass[i]!));
      },
    });
    new Counter({
      name: 'larder_response_bytes_total', help: 'Response body bytes sent to clients, by source (cache or upstream); byte hit ratio = cache / sum', labelNames: ['source'], registers,
      collect() {
        this.reset();
        this.inc({ source: 'cache' }, self.bytesFromCache);
        this.inc({ source: 'upstream' }, self.bytesFromUpstream);
      },
    });
    this.requestDuration = new PlainHistogram('larder_request_duration_seconds', 'Time from request head to last response byte, by cache result', DURATION_BUCKETS, 'cache', CACHE_RESULTS, this.registry);
    this.upstreamDuration = new PlainHistogram('larder_upstream_duration_seconds', 'Time from sending upstream to the upstream response head', DURATION_BUCKETS, undefined, [], this.registry);
    new Gauge({ name: 'larder_client_connections', help: 'Open client connections', registers, collect() { this.set(self.connections); } });
    new Gauge({ name: 'larder_tunnels', help: 'Open CONNECT tunnels', registers, collect() { this.set(self.tunnels); } });
    this.collapsedCounter = new Counter({ name: 'larder_collapsed_requests_total', help: 'Requests that waited for another in-flight fetch of the same key', registers });
    this.revalidations = new Counter({ name: 'larder_revalidations_total', help: 'Conditional requests sent to refresh stored responses, by outcome', labelNames: ['outcome'], registers });
    this.upstreamErrors = new Counter({ name: 'larder_upstream_errors_total', help: 'Failed upstream exchanges, by kind', labelNames: ['kind'], registers });
    this.authFailures = new Counter({ name: 'larder_auth_failures_total', help: 'Proxy authentication failures', registers });
    this.deniedCounter = new Counter({ name: 'larder_denied_requests_total', help: 'Requests refused by access rules, by reason', labelNames: ['reason'], registers });
    this.uncaughtErrors = new Counter({ name: 'larder_uncaught_errors_total', help: 'Errors that reached the last-resort handler (a bug), by kind: exception (the process exits) or rejection', labelNames: ['kind'], registers });

    for (const c of opts.plainCounters ?? []) {
      new Counter({
        name: c.name, help: c.help, labelNames: c.labels ? [c.labels.name] : [], registers,
        collect() {
          this.reset();
          if (!c.labels) this.inc(num(c.read()));
          else for (const [value, n] of Object.entries(c.read() as Record<string, number>)) this.inc({ [c.labels!.name]: value }, num(n));
        },
      });
    }

    // the fixed label sets are exported from the first scrape (zeros), so rate() works from the start;
    // larder_responses_total, larder_response_bytes_total and the duration histograms do so by construction
    for (const o of REVALIDATION_OUTCOMES) this.revalidations.inc({ outcome: o }, 0);

    const stats = (): StoreStats[] => {
      try { return this.storeStats(); } catch { return []; }
    };
    const storeGauge = (name: string, help: string, pick: (s: StoreStats) => number): void => {
      new Gauge({
        name, help, labelNames: ['tier'], registers,
        collect() {
          this.reset();
          for (const s of stats()) this.set({ tier: s.tier }, pick(s));
        },
      });
    };
    storeGauge('larder_store_objects', 'Entries stored, per tier', (s) => s.objects);
    storeGauge('larder_store_bytes', 'Bytes stored, per tier', (s) => s.bytes);
    storeGauge('larder_store_budget_bytes', 'Byte budget, per tier', (s) => s.budget);
    new Counter({
      name: 'larder_store_evictions_total', help: 'Entries evicted to stay within the budget, per tier', labelNames: ['tier'], registers,
      collect() {
        // the store keeps the cumulative count: mirror it
        this.reset();
        for (const s of stats()) this.inc({ tier: s.tier }, s.evictions);
      },
    });
    new Counter({
      name: 'larder_store_refused_total',
      help: 'Entries a tier refused to store (full disk, write errors, key too long, budget taken by fills in flight, in-flight memory budget) and corrupt records removed, per tier and reason',
      labelNames: ['tier', 'reason'], registers,
      collect() {
        this.reset();
        for (const s of stats()) for (const [reason, n] of Object.entries(s.refused ?? {})) this.inc({ tier: s.tier, reason }, n);
      },
    });
  }

  onRequest(r: AccessRecord): void {
    const cache = CACHE_INDEX.get(r.cache);
    if (cache === undefined) return;
    const method = METHOD_INDEX.get(r.method) ?? OTHER_METHOD;
    const slot = method * CACHE_RESULTS.length + cache;
    if (this.requestCounts[slot]!++ === 0) this.requestSlotsSeen.push(slot); // exported in first-seen order, as prom-client did
    this.totalByCache[cache]!++;

    const status = r.status;
    if (status >= 100 && status < 600) this.totalByClass[Math.floor(status / 100) - 1]!++;

    const bytes = r.bytesSent > 0 ? r.bytesSent : 0;
    const fromCache = FROM_CACHE[cache]!;
    const b = this.bucket(Math.floor(this.now() / 1000));
    b.byCache[cache]!++;
    // the proxy's own error pages come from neither the cache nor upstream
    if (cache !== ERROR_INDEX) {
      if (fromCache) {
        this.bytesFromCache += bytes;
        b.cacheBytes += bytes;
      } else {
        this.bytesFromUpstream += bytes;
        b.upstreamBytes += bytes;
      }
    }

    this.requestDuration.observe(cache, Math.max(0, r.durationMs) / 1000);
    this.requestMs.add(r.durationMs);
    if (r.upstreamMs !== undefined) {
      this.upstreamDuration.observe(0, Math.max(0, r.upstreamMs) / 1000);
      this.upstreamMs.add(r.upstreamMs);
    }

    if (fromCache || bytes > 0) {
      const host = hostOf(r);
      if (fromCache) {
        this.hostsByHits.add(host);
        this.urlsByHits.add(r.url);
      }
      if (bytes > 0) {
        this.hostsByBytes.add(host, bytes);
        this.urlsByBytes.add(r.url, bytes);
      }
    }
  }

  connection(delta: 1 | -1): void {
    this.connections = Math.max(0, this.connections + delta);
  }

  tunnel(delta: 1 | -1): void {
    this.tunnels = Math.max(0, this.tunnels + delta);
  }

  collapsed(): void {
    this.collapsedCounter.inc();
    this.collapsedTotal++;
  }

  revalidation(outcome: RevalidationOutcome): void {
    this.revalidations.inc({ outcome });
    this.totalRevalidations.set(outcome, this.totalRevalidations.get(outcome)! + 1);
  }

  upstreamError(kind: string): void {
    this.upstreamErrors.inc({ kind: boundedLabel(kind, this.errorKinds) });
    this.upstreamErrorTotal++;
  }

  authFailure(): void {
    this.authFailures.inc();
    this.authFailureTotal++;
  }

  /** an uncaughtException or unhandledRejection reached the last-resort handler */
  uncaughtError(kind: 'exception' | 'rejection'): void {
    this.uncaughtErrors.inc({ kind });
  }

  denied(reason: string): void {
    this.deniedCounter.inc({ reason: boundedLabel(reason, this.denyReasons) });
    this.deniedTotal++;
  }

  snapshot(): StatsSnapshot {
    const now = this.now();
    const current = Math.floor(now / 1000);
    const window = Math.min(RATE_WINDOW_SECONDS, Math.max(1, current - Math.floor(this.startedAt / 1000)));
    const byCacheWindow = CACHE_RESULTS.map(() => 0);
    let cacheBytes = 0;
    let upstreamBytes = 0;
    for (const b of this.ring) {
      if (b.second >= current - window && b.second < current) {
        b.byCache.forEach((n, i) => { byCacheWindow[i]! += n; });
        cacheBytes += b.cacheBytes;
        upstreamBytes += b.upstreamBytes;
      }
    }
    const windowRequests = byCacheWindow.reduce((a, n) => a + n, 0);
    const recordOf = <T>(values: readonly number[]): Record<CacheResult, T> =>
      Object.fromEntries(CACHE_RESULTS.map((c, i) => [c, values[i]])) as Record<CacheResult, T>;

    const byCache = recordOf<number>(Array.from(this.totalByCache));
    let store: StoreStats[];
    try { store = this.storeStats(); } catch { store = []; }
    return {
      time: now,
      startedAt: this.startedAt,
      totals: {
        requests: CACHE_RESULTS.reduce((a, c) => a + byCache[c], 0),
        byCache,
        byClass: Object.fromEntries(STATUS_CLASSES.map((c, i) => [c, this.totalByClass[i]!])) as Record<StatusClass, number>,
        bytesFromCache: this.bytesFromCache,
        bytesFromUpstream: this.bytesFromUpstream,
        collapsed: this.collapsedTotal,
        revalidations: Object.fromEntries(REVALIDATION_OUTCOMES.map((o) => [o, this.totalRevalidations.get(o)!])) as Record<RevalidationOutcome, number>,
        upstreamErrors: this.upstreamErrorTotal,
        authFailures: this.authFailureTotal,
        denied: this.deniedTotal,
      },
      hitRatio: hitRatio(byCache.hit + byCache.stale + byCache.revalidated, byCache.miss),
      byteHitRatio: ratio(this.bytesFromCache, this.bytesFromCache + this.bytesFromUpstream),
      bytesSaved: this.bytesFromCache,
      rates: {
        windowSeconds: window,
        requestsPerSecond: windowRequests / window,
        byCache: recordOf<number>(byCacheWindow.map((n) => n / window)),
        cacheBytesPerSecond: cacheBytes / window,
        upstreamBytesPerSecond: upstreamBytes / window,
        hitRatio: hitRatio(byCacheWindow[0]! + byCacheWindow[1]! + byCacheWindow[2]!, byCacheWindow[3]!),
        byteHitRatio: ratio(cacheBytes, cacheBytes + upstreamBytes),
      },
      latency: { requestMs: this.requestMs.percentiles(), upstreamMs: this.upstreamMs.percentiles() },
      connections: this.connections,
      tunnels: this.tunnels,
      store,
      top: {
        hostsByHits: this.hostsByHits.top(TOP_REPORTED),
        hostsByBytes: this.hostsByBytes.top(TOP_REPORTED),
        urlsByHits: this.urlsByHits.top(TOP_REPORTED),
        urlsByBytes: this.urlsByBytes.top(TOP_REPORTED),
      },
    };
  }

  /** The recent latency samples behind the percentiles (for merging snapshots across workers). */
  latencySamples(): { requestMs: number[]; upstreamMs: number[] } {
    return { requestMs: this.requestMs.samples(), upstreamMs: this.upstreamMs.samples() };
  }

  private bucket(second: number): SecondBucket {
    const b = this.ring[second % RING_SECONDS]!;
    if (b.second !== second) {
      b.second = second;
      b.byCache.fill(0);
      b.cacheBytes = 0;
      b.upstreamBytes = 0;
    }
    return b;
  }
}

/** A fixed ring of the most recent samples, for percentiles of recent latency. */
class SampleRing {
  private readonly values: Float64Array;
  private count = 0;
  private next = 0;

  constructor(size: number) {
    this.values = new Float64Array(size);
  }

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.values[this.next] = v;
    this.next = (this.next + 1) % this.values.length;
    if (this.count < this.values.length) this.count++;
  }

  samples(): number[] {
    return Array.from(this.values.subarray(0, this.count));
  }

  percentiles(): Percentiles {
    return percentilesOf(this.values.slice(0, this.count));
  }
}

/** p50/p90/p99 of samples (nearest-rank method). */
export function percentilesOf(samples: ArrayLike<number>): Percentiles {
  const count = samples.length;
  if (count === 0) return { p50: null, p90: null, p99: null, samples: 0 };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number): number => round3(sorted[Math.min(count - 1, Math.ceil(p * count) - 1)]!);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), samples: count };
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function hitRatio(fromCache: number, misses: number): number | null {
  return ratio(fromCache, fromCache + misses);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A free-form label value made safe: short, plain characters, and at most MAX_FREE_LABELS distinct ones. */
function boundedLabel(value: string, seen: Set<string>): string {
  const v = /^[a-z0-9_.-]{1,32}$/i.test(value) ? value.toLowerCase() : 'other';
  if (seen.has(v)) return v;
  if (seen.size >= MAX_FREE_LABELS) return 'other';
  seen.add(v);
  return v;
}

/** host[:port] of the record's URL (CONNECT records carry host:port already). */
export function hostOf(r: AccessRecord): string {
  const url = r.url;
  if (r.method === 'CONNECT') return url.toLowerCase();
  // what /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]*)/i captures, without a match object per request
  const colon = url.indexOf('://');
  if (colon <= 0 || !isScheme(url, colon)) return '-';
  const from = colon + 3;
  let end = from;
  let at = -1;
  for (; end < url.length; end++) {
    const c = url.charCodeAt(end);
    if (c === 0x2f || c === 0x3f || c === 0x23) break; // / ? #
    if (c === 0x40 && at < 0) at = end; // the first @ ends the userinfo
  }
  return url.slice(at < 0 ? from : at + 1, end).toLowerCase();
}

/** url[0, end) is a URI scheme: a letter, then letters, digits, + - . */
function isScheme(url: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = url.charCodeAt(i) | 0x20;
    const letter = c >= 0x61 && c <= 0x7a;
    if (i === 0 ? !letter : !(letter || (url.charCodeAt(i) >= 0x30 && url.charCodeAt(i) <= 0x39) || url[i] === '+' || url[i] === '-' || url[i] === '.')) return false;
  }
  return true;
}
