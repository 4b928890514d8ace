import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, hostOf } from '../../src/admin/metrics.js';
import type { StoreStats } from '../../src/store/types.js';
import { record } from '../log/records.js';
import { parsePrometheusText, sampleValue } from './prom-text.js';

const storeStats = (): StoreStats[] => [
  { tier: 'memory', objects: 12, bytes: 3456, budget: 1_000_000, evictions: 7, hits: 1, misses: 2 },
  { tier: 'disk', objects: 40, bytes: 99_000, budget: 5_000_000, evictions: 0, hits: 3, misses: 4 },
];

function feedMix(m: Metrics): void {
  // 3 hits, 1 stale, 1 revalidated, 2 misses, 1 bypass (CONNECT), 1 error (403), 1 odd method
  for (let i = 0; i < 3; i++) m.onRequest(record({ cache: 'hit', bytesSent: 1000, upstreamMs: undefined, upstreamAddress: undefined, url: 'http://a.test/x' }));
  m.onRequest(record({ cache: 'stale', bytesSent: 500, upstreamMs: undefined, url: 'http://b.test/s' }));
  m.onRequest(record({ cache: 'revalidated', status: 200, bytesSent: 500, upstreamMs: 5, url: 'http://a.test/r' }));
  m.onRequest(record({ cache: 'miss', bytesSent: 2000, upstreamMs: 20, url: 'http://b.test/m1' }));
  m.onRequest(record({ cache: 'miss', status: 404, bytesSent: 100, upstreamMs: 10, url: 'http://b.test/m2' }));
  m.onRequest(record({ cache: 'bypass', method: 'CONNECT', url: 'secure.test:443', status: 200, bytesSent: 4000, upstreamMs: 3 }));
  m.onRequest(record({ cache: 'error', status: 403, bytesSent: 50, upstreamMs: undefined }));
  m.onRequest(record({ cache: 'miss', method: 'BREW', status: 502, bytesSent: 0, upstreamMs: 100, url: 'http://c.test/' }));
}

test('counters in /metrics match a known mix of requests', async () => {
  const m = new Metrics({ storeStats });
  feedMix(m);
  m.connection(1); m.connection(1); m.connection(-1);
  m.tunnel(1);
  m.collapsed(); m.collapsed();
  m.revalidation('not-modified'); m.revalidation('modified'); m.revalidation('not-modified');
  m.upstreamError('connect'); m.upstreamError('timeout'); m.upstreamError('Weird kind!');
  m.authFailure();
  m.denied('acl'); m.denied('acl');

  const p = parsePrometheusText(await m.registry.metrics());
  const v = (name: string, labels: Record<string, string> = {}) => sampleValue(p, name, labels);
  assert.equal(v('larder_requests_total', { method: 'GET', cache: 'hit' }), 3);
  assert.equal(v('larder_requests_total', { method: 'GET', cache: 'stale' }), 1);
  assert.equal(v('larder_requests_total', { method: 'GET', cache: 'revalidated' }), 1);
  assert.equal(v('larder_requests_total', { method: 'GET', cache: 'miss' }), 2);
  assert.equal(v('larder_requests_total', { method: 'CONNECT', cache: 'bypass' }), 1);
  assert.equal(v('larder_requests_total', { method: 'GET', cache: 'error' }), 1);
  assert.equal(v('larder_requests_total', { method: 'OTHER', cache: 'miss' }), 1, 'unknown methods are folded');
  assert.equal(v('larder_responses_total', { class: '2xx' }), 7);
  assert.equal(v('larder_responses_total', { class: '4xx' }), 2);
  assert.equal(v('larder_responses_total', { class: '5xx' }), 1);
  assert.equal(v('larder_responses_total', { class: '1xx' }), 0);
  assert.equal(v('larder_response_bytes_total', { source: 'cache' }), 3000 + 500 + 500);
  assert.equal(v('larder_response_bytes_total', { source: 'upstream' }), 2000 + 100 + 4000);
  assert.equal(v('larder_request_duration_seconds_count', { cache: 'hit' }), 3);
  assert.equal(v('larder_request_duration_seconds_bucket', { cache: 'hit', le: '0.05' }), 3); // 42.5 ms
  assert.equal(v('larder_request_duration_seconds_bucket', { cache: 'hit', le: '0.025' }), 0);
  assert.equal(v('larder_upstream_duration_seconds_count'), 5);
  assert.ok(Math.abs(v('larder_upstream_duration_seconds_sum')! - 0.138) < 1e-9);
  assert.equal(v('larder_client_connections'), 1);
  assert.equal(v('larder_tunnels'), 1);
  assert.equal(v('larder_collapsed_requests_total'), 2);
  assert.equal(v('larder_revalidations_total', { outcome: 'not-modified' }), 2);
  assert.equal(v('larder_revalidations_total', { outcome: 'modified' }), 1);
  assert.equal(v('larder_revalidations_total', { outcome: 'error' }), 0);
  assert.equal(v('larder_upstream_errors_total', { kind: 'connect' }), 1);
  assert.equal(v('larder_upstream_errors_total', { kind: 'other' }), 1, 'odd label values are folded');
  assert.equal(v('larder_auth_failures_total'), 1);
  assert.equal(v('larder_denied_requests_total', { reason: 'acl' }), 2);
  assert.equal(v('larder_store_objects', { tier: 'memory' }), 12);
  assert.equal(v('larder_store_bytes', { tier: 'disk' }), 99_000);
  assert.equal(v('larder_store_budget_bytes', { tier: 'disk' }), 5_000_000);
  assert.equal(v('larder_store_evictions_total', { tier: 'memory' }), 7);
  assert.equal(p.types.get('larder_requests_total'), 'counter');
  assert.equal(p.types.get('larder_request_duration_seconds'), 'histogram');
  assert.equal(p.types.get('larder_store_bytes'), 'gauge');
  assert.ok(v('process_cpu_user_seconds_total') !== undefined, 'default process metrics present');
  // a second scrape does not double the mirrored store counter
  const p2 = parsePrometheusText(await m.registry.metrics());
  assert.equal(sampleValue(p2, 'larder_store_evictions_total', { tier: 'memory' }), 7);
});

test('snapshot totals, ratios and top lists', () => {
  const m = new Metrics({ storeStats, defaultMetrics: false });
  feedMix(m);
  const s = m.snapshot();
  assert.equal(s.totals.requests, 10);
  assert.deepEqual(s.totals.byCache, { hit: 3, stale: 1, revalidated: 1, miss: 3, bypass: 1, error: 1 });
  assert.equal(s.totals.bytesFromCache, 4000);
  assert.equal(s.totals.bytesFromUpstream, 6100);
  assert.equal(s.bytesSaved, 4000);
  assert.equal(s.hitRatio, 5 / 8);
  assert.equal(s.byteHitRatio, 4000 / 10100);
  assert.equal(s.store.length, 2);
  assert.deepEqual(s.top.hostsByHits.map((e) => [e.key, e.count]), [['a.test', 4], ['b.test', 1]]);
  assert.equal(s.top.hostsByBytes[0]!.key, 'secure.test:443');
  assert.equal(s.top.urlsByHits[0]!.key, 'http://a.test/x');
  assert.equal(s.top.urlsByHits[0]!.count, 3);
  assert.equal(s.latency.upstreamMs.samples, 5);
  assert.equal(s.latency.upstreamMs.p50, 10);
  assert.equal(s.latency.upstreamMs.p99, 100);
  assert.equal(s.latency.requestMs.p90, 42.5);
});

test('rates come from the last complete seconds, not from the whole run', () => {
  let now = 1_000_000_000_000;
  const m = new Metrics({ storeStats: () => [], defaultMetrics: false, now: () => now });
  now += 10_000;
  for (let i = 0; i < 50; i++) m.onRequest(record({ cache: 'hit', bytesSent: 100 })); // second 10
  now += 1000;
  for (let i = 0; i < 50; i++) m.onRequest(record({ cache: 'miss', bytesSent: 100 })); // second 11
  now += 1000; // in second 12: window = seconds 7..11
  let s = m.snapshot();
  assert.equal(s.rates.windowSeconds, 5);
  assert.equal(s.rates.requestsPerSecond, 20);
  assert.equal(s.rates.byCache.hit, 10);
  assert.equal(s.rates.hitRatio, 0.5);
  assert.equal(s.rates.cacheBytesPerSecond, 1000);
  now += 10_000; // nothing in the last 5 seconds
  s = m.snapshot();
  assert.equal(s.rates.requestsPerSecond, 0);
  assert.equal(s.rates.hitRatio, null);
  assert.equal(s.totals.requests, 100, 'totals are kept');
});

test('hostOf handles absolute URLs, userinfo and CONNECT targets', () => {
  assert.equal(hostOf(record({ url: 'http://User:pw@Example.TEST:8080/p?q' })), 'example.test:8080');
  assert.equal(hostOf(record({ url: 'https://a.test' })), 'a.test');
  assert.equal(hostOf(record({ method: 'CONNECT', url: 'Secure.test:443' })), 'secure.test:443');
});

test('a store that throws does not break a scrape', async () => {
  const m = new Metrics({ storeStats: () => { throw new Error('closed'); }, defaultMetrics: false });
  const p = parsePrometheusText(await m.registry.metrics());
  assert.equal(sampleValue(p, 'larder_store_objects'), undefined);
  assert.deepEqual(m.snapshot().store, []);
});

test('the plain-number metrics export exactly what prom-client Counters and Histograms would (text and JSON)', async () => {
  const { Counter, Histogram, Gauge, Registry } = await import('prom-client');
  const m = new Metrics({ storeStats: () => [], defaultMetrics: false });
  const ref = new Registry();
  const registers = [ref];
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  const caches = ['hit', 'stale', 'revalidated', 'miss', 'bypass', 'error'] as const;
  const requests = new Counter({ name: 'larder_requests_total', help: 'Requests answered, by method and cache result', labelNames: ['method', 'cache'], registers });
  const responses = new Counter({ name: 'larder_responses_total', help: 'Responses sent, by status class', labelNames: ['class'], registers });
  const bytes = new Counter({ name: 'larder_response_bytes_total', help: 'Response body bytes sent to clients, by source (cache or upstream); byte hit ratio = cache / sum', labelNames: ['source'], registers });
  const duration = new Histogram({ name: 'larder_request_duration_seconds', help: 'Time from request head to last response byte, by cache result', labelNames: ['cache'], buckets, registers });
  const upstream = new Histogram({ name: 'larder_upstream_duration_seconds', help: 'Time from sending upstream to the upstream response head', buckets, registers });
  new Gauge({ name: 'larder_client_connections', help: 'Open client connections', registers }).set(0);
  new Gauge({ name: 'larder_tunnels', help: 'Open CONNECT tunnels', registers }).set(0);
  for (const c of caches) duration.zero({ cache: c });
  for (const c of ['1xx', '2xx', '3xx', '4xx', '5xx']) responses.inc({ class: c }, 0);
  for (const s of ['cache', 'upstream']) bytes.inc({ source: s }, 0);

  const methods = ['GET', 'HEAD', 'BREW', 'PURGE', 'POST'];
  const statuses = [200, 304, 404, 503, 101, 700];
  for (let i = 0; i < 300; i++) {
    const cache = caches[(i * 7) % 6]!;
    const method = methods[i % 5]!;
    const status = statuses[i % 6]!;
    const sent = (i * 37) % 3000;
    const durationMs = ((i * 13) % 4000) / 3;
    const upstreamMs = i % 3 ? undefined : i * 0.7;
    m.onRequest(record({ cache, method, status, bytesSent: sent, durationMs, upstreamMs }));
    requests.inc({ method: method === 'BREW' ? 'OTHER' : method, cache });
    if (status < 600) responses.inc({ class: `${Math.floor(status / 100)}xx` });
    if (cache !== 'error' && sent > 0) bytes.inc({ source: ['hit', 'stale', 'revalidated'].includes(cache) ? 'cache' : 'upstream' }, sent);
    duration.observe({ cache }, durationMs / 1000);
    if (upstreamMs !== undefined) upstream.observe(upstreamMs / 1000);
  }
  const ours = (await m.registry.metrics()).split('\n\n').filter((b) => !b.includes('larder_store_') && !/larder_(collapsed|revalidations|upstream_errors|auth|denied|uncaught)/.test(b));
  assert.deepEqual(ours.join('\n\n').trim().split('\n'), (await ref.metrics()).trim().split('\n'));
  const json = (await m.registry.getMetricsAsJSON()).filter((x) => ref.getSingleMetric(x.name));
  assert.deepEqual(JSON.parse(JSON.stringify(json)), JSON.parse(JSON.stringify(await ref.getMetricsAsJSON())));
});

test('a non-finite duration is not counted in the histograms and does not throw', async () => {
  const m = new Metrics({ storeStats, defaultMetrics: false });
  m.onRequest(record({ cache: 'hit', durationMs: Number.NaN, upstreamMs: Number.POSITIVE_INFINITY }));
  const p = parsePrometheusText(await m.registry.metrics());
  assert.equal(sampleValue(p, 'larder_requests_total', { method: 'GET', cache: 'hit' }), 1);
  assert.equal(sampleValue(p, 'larder_request_duration_seconds_count', { cache: 'hit' }), 0);
  assert.equal(sampleValue(p, 'larder_upstream_duration_seconds_count'), 0);
});

test('hostOf (hand-written scan) gives what the URL pattern it replaced captures, on random URL-like strings', () => {
  const pattern = (u: string) => {
    const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?([^/?#]*)/i.exec(u);
    return m ? m[1]!.toLowerCase() : '-';
  };
  const parts = ['a', 'Z', '1', ':', '/', '//', '://', '@', '?', '#', '.', '+', '-', '[', ']', 'http', 'HTTPS', ' ', '%', 'é', '!', '_'];
  let seed = 7;
  const rand = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (let i = 0; i < 20_000; i++) {
    let url = '';
    for (let k = 1 + rand(12); k > 0; k--) url += parts[rand(parts.length)];
    assert.equal(hostOf(record({ url })), pattern(url), JSON.stringify(url));
  }
});
