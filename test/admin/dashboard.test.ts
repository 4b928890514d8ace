/**
 * End to end: the dashboard in headless Chromium while Metrics is being fed, figures and charts update.
 * Skips (with the reason printed) when /usr/bin/chromium is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { pino } from 'pino';
import { startAdmin } from '../../src/admin/server.js';
import { Metrics } from '../../src/admin/metrics.js';
import type { CacheResult } from '../../src/log/record.js';
import { record } from '../log/records.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install chromium)`;
if (skip) console.log(`# skipping dashboard test: ${skip}`);

test('dashboard renders live figures, charts and top lists', { skip, timeout: 30_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  let bytes = 0;
  const metrics = new Metrics({
    storeStats: () => [
      { tier: 'memory', objects: 120, bytes: 40_000_000 + bytes, budget: 256_000_000, evictions: 3, hits: 0, misses: 0 },
      { tier: 'disk', objects: 5400, bytes: 610_000_000, budget: 1_000_000_000, evictions: 0, hits: 0, misses: 0 },
    ],
    defaultMetrics: false,
  });
  const admin = await startAdmin({
    config: { adminHost: '127.0.0.1', adminPort: 0, adminToken: 'dash-token' },
    metrics, purge: async () => 0, info: () => ({ version: '0.1.0', uptime: 3725 }), log: pino({ level: 'silent' }),
  });
  t.after(() => admin.close());

  // a steady, mixed load: hits dominate, a few hosts and URLs stand out
  const mix: CacheResult[] = ['hit', 'hit', 'hit', 'hit', 'miss', 'stale', 'revalidated', 'bypass', 'miss', 'error'];
  const hosts = ['deb.debian.org', 'registry.npmjs.org', 'files.pythonhosted.org', 'example.test'];
  let n = 0;
  const feed = setInterval(() => {
    for (let i = 0; i < 25; i++, n++) {
      const cache = mix[n % mix.length]!;
      const host = hosts[(n * 7) % hosts.length]!;
      const size = 2000 + ((n * 7919) % 200_000);
      bytes += size;
      metrics.onRequest(record({
        cache, url: `http://${host}/pool/${n % 13}.deb`, bytesSent: size, status: cache === 'error' ? 502 : 200,
        durationMs: 2 + (n % 50), upstreamMs: cache === 'hit' ? undefined : 10 + (n % 90),
      }));
    }
  }, 50);
  t.after(() => clearInterval(feed));
  metrics.connection(1); metrics.connection(1); metrics.tunnel(1);
  // a hostile URL must show up as text, never as markup
  metrics.onRequest(record({ cache: 'hit', url: 'http://evil.test/<img src=x onerror="window.__xss=1">', bytesSent: 10_000_000 }));

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

  await page.goto(`http://127.0.0.1:${admin.port}/?token=dash-token`);
  await page.waitForSelector('#status.ok', { timeout: 10_000 });
  assert.equal(new URL(page.url()).search, '', 'the token is removed from the address bar');

  const first = await page.textContent('#fig-requests');
  const firstRps = await page.textContent('#fig-rps');
  // wait for at least two more polls
  await page.waitForFunction((before) => document.getElementById('fig-requests')!.textContent !== before, first, { timeout: 10_000 });
  await page.waitForTimeout(2200);
  const second = await page.textContent('#fig-requests');
  const total = (s: string | null) => Number(s!.replace(/[^\d]/g, ''));
  assert.ok(total(second) > total(first), `total requests grew: ${first} → ${second}`);
  assert.notEqual(await page.textContent('#fig-rps'), '–');
  assert.ok(firstRps !== null);

  // four uPlot charts, each with a canvas and data points
  assert.equal(await page.locator('.uplot canvas').count(), 4);
  const points = await page.evaluate(() => document.querySelectorAll('.uplot').length);
  assert.equal(points, 4);
  assert.match((await page.textContent('#fig-hit'))!, /^\d+\.\d%$/);
  assert.match((await page.textContent('#fig-saved'))!, /\d (kB|MB|GB)$/);
  assert.match((await page.textContent('#meta'))!, /v0\.1\.0 · up 1h 2m/);

  // store and top tables
  const storeRows = await page.locator('#store tbody tr').allTextContents();
  assert.equal(storeRows.length, 2);
  assert.match(storeRows[1]!, /disk/);
  const hostHits = await page.locator('#top-hosts-hits tbody td.key').allTextContents();
  assert.ok(hostHits.length >= 4 && hostHits.includes('deb.debian.org'), hostHits.join(','));
  const urlBytes = await page.locator('#top-urls-bytes tbody td.key').allTextContents();
  assert.equal(urlBytes[0], 'http://evil.test/<img src=x onerror="window.__xss=1">');
  assert.equal(await page.locator('#top-urls-bytes img').count(), 0);
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);

  assert.deepEqual(problems, []);
  mkdirSync('test-output', { recursive: true });
  await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });
});

test('dashboard without the token asks for one', { skip, timeout: 30_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const admin = await startAdmin({
    config: { adminHost: '127.0.0.1', adminPort: 0, adminToken: 'dash-token' },
    metrics: new Metrics({ storeStats: () => [], defaultMetrics: false }), purge: async () => 0, info: () => ({}), log: pino({ level: 'silent' }),
  });
  t.after(() => admin.close());
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const res = await page.goto(`http://127.0.0.1:${admin.port}/`);
  assert.equal(res!.status(), 401);
  assert.match((await page.textContent('body'))!, /missing or wrong admin token/);
});
