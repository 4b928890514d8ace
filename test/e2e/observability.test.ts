/**
 * Observability through the real proxy (issue 6): access log lines parsed back and matched to the requests
 * sent, /metrics counters against a known request mix, purge through the admin API and the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestLarder } from '../helpers/larder.js';
import { startOrigin } from '../helpers/origin.js';
import { viaProxy, sleep } from '../helpers/client.js';
import { parsePrometheusText } from '../admin/prom-text.js';

const exec = promisify(execFile);
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

async function waitForLines(file: string, n: number): Promise<string[]> {
  for (let i = 0; i < 50; i++) {
    try {
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      if (lines.length >= n) return lines;
    } catch { /* not yet */ }
    await sleep(100);
  }
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

test('squid, combined and json access logs carry each request with its cache result', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-logs-'));
  const origin = await startOrigin((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }); res.end('logged'); });
  for (const format of ['squid', 'combined', 'json'] as const) {
    const file = join(dir, `${format}.log`);
    const l = await startTestLarder({ logFormat: format, accessLog: file });
    const url = `${origin.url}/${format}`;
    await viaProxy(l.port, url);
    await viaProxy(l.port, url);
    await l.stop();
    const lines = await waitForLines(file, 2);
    assert.equal(lines.length, 2, format);
    if (format === 'squid') {
      // time elapsed client code/status bytes method URL user hierarchy/peer type
      const [miss, hit] = lines.map((line) => line.trim().split(/\s+/));
      assert.equal(miss![3], 'TCP_MISS/200');
      assert.match(hit![3]!, /^TCP_(MEM_)?HIT\/200$/);
      assert.equal(miss![4], '6');
      assert.equal(miss![5], 'GET');
      assert.equal(miss![6], url);
      assert.match(miss![8]!, /^HIER_DIRECT\//);
      assert.equal(miss![9], 'text/plain');
    } else if (format === 'combined') {
      assert.match(lines[0]!, new RegExp(`^127\\.0\\.0\\.1 - - \\[[^\\]]+\\] "GET ${url.replace(/[.]/g, '\\.')} HTTP/1\\.1" 200 6 `));
      assert.match(lines[0]!, /cache=miss/);
      assert.match(lines[1]!, /cache=hit/);
    } else {
      const [a, b] = lines.map((x) => JSON.parse(x));
      assert.equal(a.url, url);
      assert.equal(a.status, 200);
      assert.equal(a.cache, 'miss');
      assert.equal(b.cache, 'hit');
      assert.ok(typeof a.upstreamMs === 'number' || typeof a.upstream_ms === 'number' || 'upstream' in a || 'upstreamAddress' in a);
    }
  }
  // logrotate: rename, then reopen writes to a new file
  const file = join(dir, 'rotate.log');
  const l = await startTestLarder({ logFormat: 'squid', accessLog: file });
  await viaProxy(l.port, `${origin.url}/before`);
  await waitForLines(file, 1);
  renameSync(file, `${file}.1`);
  l.reopenLogs();
  await viaProxy(l.port, `${origin.url}/after`);
  await l.stop();
  assert.match(readFileSync(`${file}.1`, 'utf8'), /\/before/);
  assert.match((await waitForLines(file, 1)).join('\n'), /\/after/);
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

test('/metrics counts a known mix of requests; purge by URL and prefix makes the next request a miss', async () => {
  const origin = await startOrigin((req, res) => {
    if (req.method === 'POST') { res.writeHead(204); res.end(); return; }
    res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end('0123456789');
  });
  const l = await startTestLarder({}, { adminEphemeral: true });
  const admin = `http://127.0.0.1:${l.adminPort}`;
  for (let i = 0; i < 3; i++) await viaProxy(l.port, `${origin.url}/a`); // 1 miss + 2 hits
  await viaProxy(l.port, `${origin.url}/b`); // miss
  await viaProxy(l.port, `${origin.url}/c`, { method: 'POST', body: 'x' }); // bypass (method)
  await sleep(50);
  const text = await (await fetch(`${admin}/metrics`)).text();
  const { samples } = parsePrometheusText(text);
  const value = (name: string, labels: Record<string, string>) => samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
  assert.equal(value('larder_requests_total', { method: 'GET', cache: 'hit' }), 2);
  assert.equal(value('larder_requests_total', { method: 'GET', cache: 'miss' }), 2);
  assert.equal(value('larder_requests_total', { method: 'POST', cache: 'bypass' }), 1);
  assert.equal(value('larder_response_bytes_total', { source: 'cache' }), 20);
  assert.ok(value('larder_store_objects', {}) >= 2);

  const stats = await (await fetch(`${admin}/stats`)).json() as Record<string, unknown>;
  assert.ok(stats.version);

  const purge = await fetch(`${admin}/purge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: `${origin.url}/a` }) });
  assert.equal((await purge.json() as { purged: number }).purged, 1);
  await viaProxy(l.port, `${origin.url}/a`);
  assert.equal(origin.count('/a'), 2);

  const cli = await exec(process.execPath, ['--import', 'tsx', CLI, 'purge', '--prefix', `${origin.url}/`, '--admin-port', String(l.adminPort)]);
  assert.match(cli.stdout, /purged 2|2 /);
  await viaProxy(l.port, `${origin.url}/b`);
  assert.equal(origin.count('/b'), 2);
  const statsCli = await exec(process.execPath, ['--import', 'tsx', CLI, 'stats', '--admin-port', String(l.adminPort)]);
  assert.match(statsCli.stdout, /hit/i);
  await l.stop();
  await origin.close();
});
