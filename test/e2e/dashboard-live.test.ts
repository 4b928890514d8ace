/**
 * The dashboard of a real larder while traffic goes through the proxy (issue 6): the page's figures and
 * charts update under load. Skips (with the reason printed) when /usr/bin/chromium is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { startTestLarder } from '../helpers/larder.js';
import { startOrigin } from '../helpers/origin.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (apt-get install chromium)`;
if (skip) console.log(`# skipping live dashboard test: ${skip}`);

test('the dashboard follows real proxy traffic', { skip, timeout: 60_000 }, async (t) => {
  const { chromium } = await import('playwright-core');
  const origin = await startOrigin((req, res) => {
    res.writeHead(200, { 'cache-control': req.url!.includes('nocache') ? 'no-store' : 'max-age=600' });
    res.end('x'.repeat(4096));
  });
  const larder = await startTestLarder({}, { adminEphemeral: true });
  t.after(async () => { await larder.stop(); await origin.close(); });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let running = true;
  let sent = 0;
  // bounded load: at most 60 s (the test timeout) and stopped as soon as the assertions are done
  const drive = (async () => {
    while (running && sent < 200_000) {
      const batch = Array.from({ length: 16 }, (_, i) => new Promise<void>((resolve) => {
        const path = `${origin.url}/${i % 4 === 0 ? 'nocache' : 'asset'}/${i % 8}`;
        http.get({ host: '127.0.0.1', port: larder.port, path, headers: { host: origin.host }, agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', () => resolve());
      }));
      await Promise.all(batch);
      sent += batch.length;
    }
  })();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`http://127.0.0.1:${larder.adminPort}/`);
    await page.waitForSelector('#status.ok', { timeout: 10_000 });
    const total = (s: string | null) => Number(s!.replace(/[^\d]/g, ''));
    const first = total(await page.textContent('#fig-requests'));
    await page.waitForFunction((before) => Number(document.getElementById('fig-requests')!.textContent!.replace(/[^\d]/g, '')) > before + 100, first, { timeout: 15_000 });
    await page.waitForTimeout(2500);
    assert.ok(total(await page.textContent('#fig-requests')) > first);
    assert.match((await page.textContent('#fig-hit'))!, /^\d+\.\d%$/);
    assert.notEqual(await page.textContent('#fig-rps'), '–');
    assert.equal(await page.locator('.uplot canvas').count(), 4);
    const hosts = await page.locator('#top-hosts-hits tbody td.key').allTextContents();
    assert.ok(hosts.some((h) => h.startsWith('127.0.0.1')), hosts.join(','));
    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/dashboard-live.png', fullPage: true });
  } finally {
    running = false;
    await drive;
    agent.destroy();
    await browser.close();
  }
});
