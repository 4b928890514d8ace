/**
 * The embedded disk store through the real proxy (issue 4): default on, entries survive a restart and are
 * served with the right Age, `larder stats` reads the directory, a 1 GiB object passes through and is
 * stored with the proxy's RSS bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { startTestLarder } from '../helpers/larder.js';
import { startOrigin } from '../helpers/origin.js';
import { viaProxy, sleep } from '../helpers/client.js';

const exec = promisify(execFile);
const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

test('entries survive a restart and are served as hits with the right Age', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-disk-'));
  const origin = await startOrigin((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=600' }); res.end('persistent body'); });
  const url = `${origin.url}/persist`;
  const a = await startTestLarder({ disk: true, cacheDir: dir }, { memoryStore: false });
  await viaProxy(a.port, url);
  await a.stop();
  await sleep(1100);
  const b = await startTestLarder({ disk: true, cacheDir: dir }, { memoryStore: false });
  const r = await viaProxy(b.port, url);
  assert.equal(r.body.toString(), 'persistent body');
  assert.match(String(r.headers['cache-status']), /^larder; hit/);
  assert.ok(Number(r.headers.age) >= 1, `Age ${r.headers.age} after a restart`);
  assert.equal(origin.count('/persist'), 1);
  await b.stop();

  const { stdout } = await exec(process.execPath, ['--import', 'tsx', CLI, 'stats', '--cache-dir', dir, '--admin-port', '1']);
  assert.match(stdout, /objects/i);
  assert.match(stdout, /\b1\b/);
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

// the time limit only bounds a stuck transfer (about 30 s on 2 idle cores, several times that at load 15)
test('a 1 GiB object passes through and is stored, with the proxy RSS bounded; the hit streams it back', { timeout: 360_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'larder-big-'));
  const size = 1024 * 1024 * 1024;
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE(i * 2654435761 >>> 0, i);
  const expected = createHash('sha256');
  for (let i = 0; i < size / chunk.length; i++) expected.update(chunk);
  const digest = expected.digest('hex');
  const origin = await startOrigin((_q, res) => {
    res.writeHead(200, { 'cache-control': 'max-age=600', 'content-length': String(size) });
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!res.write(chunk)) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
  });
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--workers', '1', '--port', '0', '--cache-dir', dir, '--cache-size', '2GiB',
    '--max-object-size', '2GiB', '--memory-size', '64MB', '--admin-port', '0', '--access-log', 'off', '--log-level', 'error'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => child.once('exit', r));
  // whatever failed (a timeout included: the after hook still runs), the child does not outlive the test
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(kill);
  });
  let err = '';
  const started = new Promise<number>((resolve, reject) => {
    child.stderr.on('data', (d) => { err += d; const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(err); if (m) resolve(Number(m[1])); });
    void exited.then(() => reject(new Error(`exited early: ${err}`)));
  });
  let peakRss = 0;
  const sample = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0); // anonymous memory: the mapped store file is page cache, not held by the process
      peakRss = Math.max(peakRss, kb * 1024);
    } catch { /* exited */ }
  }, 100);
  let port = 0;
  const fetchAll = () => new Promise<{ digest: string; status: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: `${origin.url}/huge`, headers: { host: origin.host } }, (res) => {
      const h = createHash('sha256');
      res.on('data', (c: Buffer) => h.update(c));
      res.on('end', () => resolve({ digest: h.digest('hex'), status: String(res.headers['cache-status']) }));
      res.on('error', reject);
    }).on('error', reject);
  });
  try {
    port = await started;
    const first = await fetchAll();
    assert.equal(first.digest, digest);
    assert.match(first.status, /stored/);
    await sleep(300);
    const second = await fetchAll();
    assert.equal(second.digest, digest);
    // served from the store: a hit, or collapsed onto the first request's flight if its commit was still finishing
    assert.match(second.status, /^larder; (hit|fwd=uri-miss; fwd-status=200; collapsed)/);
    assert.equal(origin.count('/huge'), 1);
    assert.ok(peakRss < 400 * 1024 * 1024, `proxy RSS peaked at ${(peakRss / 1048576).toFixed(0)} MiB for a 1 GiB object`);
    console.log(`# 1 GiB through the proxy: peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`);
  } finally {
    clearInterval(sample);
    child.kill('SIGTERM');
    await exited;
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
