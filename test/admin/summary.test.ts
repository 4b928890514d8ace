import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Metrics } from '../../src/admin/metrics.js';
import { startSummary, formatStatsLine } from '../../src/admin/summary.js';
import { formatBytes, parseSize } from '../../src/config/units.js';
import { record } from '../log/records.js';

test('summary line carries req/s, hit ratio, byte hit ratio and bytes saved', () => {
  let now = 1_700_000_000_000;
  const m = new Metrics({ storeStats: () => [], defaultMetrics: false, now: () => now });
  now += 2000;
  for (let i = 0; i < 30; i++) m.onRequest(record({ cache: 'hit', bytesSent: 100_000 }));
  for (let i = 0; i < 10; i++) m.onRequest(record({ cache: 'miss', bytesSent: 300_000 }));
  now += 1000;
  const line = formatStatsLine(m.snapshot());
  // window = 3 s since start (less than the 5 s window): 40 requests / 3 s
  assert.equal(line, 'larder: 13.3 req/s · hit 75.0% · byte hit 50.0% · saved 3MB · 40 requests');
});

test('startSummary prints on its interval and stops', async () => {
  const m = new Metrics({ storeStats: () => [], defaultMetrics: false });
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  const stop = startSummary(m, out, 30);
  // wait for two lines rather than a fixed time: a loaded machine (CI) may delay timers
  const lines = () => text.split('\n').filter(Boolean).length;
  for (let i = 0; i < 200 && lines() < 2; i++) await new Promise((r) => setTimeout(r, 10));
  stop();
  const n = lines();
  assert.ok(n >= 2, `printed ${n} lines`);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(text.split('\n').filter(Boolean).length, n, 'no lines after stop');
  assert.match(text, /^larder: 0\.0 req\/s · hit - · byte hit - · saved 0B · 0 requests$/m);
});

test('formatBytes: one format for --help, larder stats, --summary and larder warm (stats used kB, --help KiB)', () => {
  assert.equal(formatBytes(999), '999B');
  assert.equal(formatBytes(1_234_567), '1.2MiB');
  assert.equal(formatBytes(5e12), '5TB');
  assert.equal(formatBytes(65_536), '64.0KiB');
  for (const n of [0, 999, 65_536, 256_000_000, 5e12]) assert.equal(parseSize(formatBytes(n)), n, `${n} reads back`);
});
