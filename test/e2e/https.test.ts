/**
 * HTTPS through the real proxy (issue 5): blind CONNECT tunnels, TLS interception with larder's CA so the
 * decrypted requests are cached under https:// keys, upstream certificate verification, CONNECT port rules,
 * and headless Chromium loading a page twice through larder.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { makeTestCa, issueCert, selfSignedCert, startHttpsOrigin, tempDir, writePem, type TestOrigin } from '../helpers/tls-fixtures.js';
import { rawExchange } from '../helpers/client.js';

const exec = promisify(execFile);
let origin: TestOrigin;
let badOrigin: TestOrigin;
let larder: TestLarder;
let tunnelOnly: TestLarder;
let caFile: string;
const hits = new Map<string, number>();
const tmp = tempDir('larder-https-');

before(async () => {
  const ca = await makeTestCa();
  caFile = writePem(tmp.dir, 'origin-ca.pem', ca.certPem);
  origin = await startHttpsOrigin(await issueCert(ca), (req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    if (req.url === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end('<!doctype html><title>larder</title><link rel=stylesheet href="/style.css"><img src="/logo.svg"><script src="/app.js"></script><p id=p>page</p>');
      return;
    }
    const types: Record<string, string> = { '/style.css': 'text/css', '/logo.svg': 'image/svg+xml', '/app.js': 'text/javascript' };
    const bodies: Record<string, string> = { '/style.css': 'p{color:green}', '/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', '/app.js': 'document.title="ran"' };
    res.writeHead(200, { 'content-type': types[req.url!] ?? 'text/plain', 'cache-control': 'max-age=600' });
    res.end(bodies[req.url!] ?? `secure ${req.url}`);
  });
  badOrigin = await startHttpsOrigin(await selfSignedCert(), (_q, res) => { res.end('should not be seen'); });
  larder = await startTestLarder({ intercept: true, connectPorts: ['1-65535'], upstreamCa: caFile });
  tunnelOnly = await startTestLarder({ connectPorts: [String(origin.port)] });
});
after(async () => {
  await larder.stop();
  await tunnelOnly.stop();
  await origin.close();
  await badOrigin.close();
  tmp.cleanup();
});

const larderCa = () => join(larder.config.caDir, 'ca.pem');

test('a blind CONNECT tunnel carries curl to the HTTPS origin (no interception)', async () => {
  const { stdout } = await exec('curl', ['-sS', '--cacert', caFile, '-x', tunnelOnly.url, `https://localhost:${origin.port}/tunnel`]);
  assert.equal(stdout, 'secure /tunnel');
  // the CONNECT is recorded when the tunnel closes, which may be just after curl exits
  for (let i = 0; i < 50 && !tunnelOnly.records.some((r) => r.method === 'CONNECT'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(tunnelOnly.records.find((r) => r.method === 'CONNECT'), 'CONNECT not recorded');
});

test('CONNECT to a port that is not allowed gets 403 with a reason', async () => {
  const raw = await rawExchange(tunnelOnly.port, 'CONNECT localhost:25 HTTP/1.1\r\nHost: localhost:25\r\n\r\n');
  assert.match(raw, /^HTTP\/1\.1 403 /);
  assert.match(raw, /port/i);
});

test('with --intercept, curl trusting larder\'s CA gets the body and the second request is a cache hit', async () => {
  const url = `https://localhost:${origin.port}/intercepted`;
  const args = ['-sS', '-D', '-', '--cacert', larderCa(), '-x', larder.url, url];
  const first = await exec('curl', args);
  assert.match(first.stdout, /secure \/intercepted$/);
  assert.match(first.stdout, /cache-status: larder; fwd=uri-miss; fwd-status=200; stored/i);
  const second = await exec('curl', args);
  assert.match(second.stdout, /cache-status: larder; hit/i);
  assert.match(second.stdout, /secure \/intercepted$/);
  assert.equal(hits.get('/intercepted'), 1, 'the origin saw the second request');
  const rec = larder.records.find((r) => r.url === url);
  assert.ok(rec, 'decrypted request not recorded under its https:// URL');
});

test('undici ProxyAgent trusting the CA receives the origin body through interception', async () => {
  const agent = new ProxyAgent({ uri: larder.url, requestTls: { ca: readFileSync(larderCa(), 'utf8') } });
  const r = await request(`https://localhost:${origin.port}/undici`, { dispatcher: agent });
  assert.equal(r.statusCode, 200);
  assert.equal(await r.body.text(), 'secure /undici');
  const again = await request(`https://localhost:${origin.port}/undici`, { dispatcher: agent });
  assert.match(String(again.headers['cache-status']), /hit/);
  await again.body.text();
  assert.equal(hits.get('/undici'), 1);
  await agent.close();
});

test('an origin certificate that does not verify gives the client a 502 naming the problem', async () => {
  const r = await exec('curl', ['-sS', '--cacert', larderCa(), '-x', larder.url, `https://localhost:${badOrigin.port}/`, '-w', '\n%{http_code}']);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '502');
  assert.match(r.stdout, /certificate/i);
  assert.doesNotMatch(r.stdout, /should not be seen/);
});

test('larder ca prints the CA path and PEM', async () => {
  const cli = new URL('../../src/cli.ts', import.meta.url).pathname;
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', cli, 'ca', '--ca-dir', larder.config.caDir]);
  assert.ok(stdout.includes(larderCa()));
  assert.match(stdout, /-----BEGIN CERTIFICATE-----/);
});

test('headless Chromium loads a page through larder twice; the second time its assets come from cache', async (t) => {
  if (!existsSync('/usr/bin/chromium')) { t.skip('chromium not installed (/usr/bin/chromium); apt-get install chromium'); return; }
  const { chromium } = await import('playwright-core');
  // Chromium has no flag to add a CA; trust larder's leaves by their key (all leaves share one key pair)
  const leafPem = (await exec('bash', ['-c', `echo | openssl s_client -proxy 127.0.0.1:${larder.port} -connect localhost:${origin.port} -servername localhost 2>/dev/null | openssl x509`])).stdout;
  const spki = createHash('sha256').update(new X509Certificate(leafPem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--proxy-server=${larder.url}`, `--ignore-certificate-errors-spki-list=${spki}`,
      '--proxy-bypass-list=<-loopback>'],
  });
  try {
    const statuses: Record<string, string>[] = [];
    for (let round = 0; round < 2; round++) {
      const context = await browser.newContext(); // a fresh browser cache each round, so only larder can serve from cache
      const page = await context.newPage();
      const seen: Record<string, string> = {};
      page.on('response', (r) => { seen[new URL(r.url()).pathname] = r.headers()['cache-status'] ?? ''; });
      await page.goto(`https://localhost:${origin.port}/page.html`, { waitUntil: 'load' });
      assert.equal(await page.title(), 'ran');
      assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('p')!).color), 'rgb(0, 128, 0)');
      statuses.push(seen);
      mkdirSync('test-output', { recursive: true });
      if (round === 1) await page.screenshot({ path: 'test-output/https-page.png' });
      await context.close();
    }
    for (const asset of ['/style.css', '/logo.svg', '/app.js']) {
      assert.match(statuses[0]![asset]!, /fwd=uri-miss/, `${asset} first load`);
      assert.match(statuses[1]![asset]!, /^larder; hit/, `${asset} second load`);
      assert.equal(hits.get(asset), 1, `${asset} reached the origin twice`);
    }
  } finally {
    await browser.close();
  }
});
