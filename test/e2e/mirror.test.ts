/**
 * Package mirrors (issue 8): an origin that imitates a Debian mirror (no validators, no freshness) behind
 * larder with and without --preset debian; offline grace after the origin stops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder } from '../helpers/larder.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { viaProxy, sleep } from '../helpers/client.js';

/** Answers like deb.debian.org does for pool files: 200, a body, no Cache-Control / Last-Modified / ETag. */
function mirror(extra: Record<string, string> = {}): Promise<TestOrigin> {
  return startOrigin((req, res) => {
    const body = `contents of ${req.url}`;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), ...extra });
    res.end(body);
  });
}

const deb = '/debian/pool/main/h/hello/hello_2.10-3_amd64.deb';
const inrelease = '/debian/dists/bookworm/InRelease';

test('without a preset a mirror without caching headers is fetched again; with --preset debian it is a hit', async () => {
  const origin = await mirror();
  const plain = await startTestLarder();
  await viaProxy(plain.port, `${origin.url}${deb}`);
  await viaProxy(plain.port, `${origin.url}${deb}`);
  assert.equal(origin.count(deb), 2, 'RFC 9111 alone stores nothing reusable here');
  await plain.stop();

  const withPreset = await startTestLarder({ preset: ['debian'] });
  const a = await viaProxy(withPreset.port, `${origin.url}${deb}`);
  assert.match(String(a.headers['cache-status']), /stored.*detail=rule:debian-pool/);
  const b = await viaProxy(withPreset.port, `${origin.url}${deb}`);
  assert.equal(b.body.toString(), `contents of ${deb}`);
  assert.match(String(b.headers['cache-status']), /^larder; hit/);
  assert.equal(origin.count(deb), 3, 'the second download through the preset reached the origin');
  const rec = withPreset.records.at(-1)!;
  assert.equal(rec.rule, 'debian-pool');
  await withPreset.stop();
  await origin.close();
});

test('index files get a short freshness and are fetched again after it', async () => {
  const origin = await mirror();
  const l = await startTestLarder({ preset: ['debian'] });
  await viaProxy(l.port, `${origin.url}${inrelease}`);
  const b = await viaProxy(l.port, `${origin.url}${inrelease}`);
  assert.match(String(b.headers['cache-status']), /^larder; hit; ttl=\d+; detail=rule:/);
  assert.equal(origin.count(inrelease), 1);
  await l.stop();
  await origin.close();
});

test('an explicit no-store from the origin wins over every rule', async () => {
  const origin = await mirror({ 'cache-control': 'no-store' });
  const l = await startTestLarder({ preset: ['debian'] });
  await viaProxy(l.port, `${origin.url}${deb}`);
  await viaProxy(l.port, `${origin.url}${deb}`);
  assert.equal(origin.count(deb), 2);
  await l.stop();
  await origin.close();
});

test('offline grace serves a stale entry when the origin is gone, and stops past the grace', async () => {
  const origin = await startOrigin((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=1' }); res.end('package'); });
  const url = `${origin.url}/pkg.tar.gz`;
  const l = await startTestLarder({ offlineGrace: 2000, connectTimeout: 500 });
  await viaProxy(l.port, url);
  await origin.close();
  await sleep(1200); // stale now
  const r = await viaProxy(l.port, url);
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'package');
  assert.match(String(r.headers['cache-status']), /^larder; fwd=stale; ttl=-?\d+; detail=offline:connect-refused$/);
  await sleep(2600); // past the grace
  const gone = await viaProxy(l.port, url);
  assert.equal(gone.status, 502);
  await l.stop();
});

test('offline grace never applies to must-revalidate responses', async () => {
  const origin = await startOrigin((_q, res) => { res.writeHead(200, { 'cache-control': 'max-age=1, must-revalidate' }); res.end('strict'); });
  const url = `${origin.url}/strict`;
  const l = await startTestLarder({ offlineGrace: 60_000, connectTimeout: 500 });
  await viaProxy(l.port, url);
  await origin.close();
  await sleep(1200);
  const r = await viaProxy(l.port, url);
  assert.equal(r.status, 504);
  await l.stop();
});

test('larder warm fills the real cache and reports what it did', async () => {
  const { runWarm } = await import('../../src/cli/warm.js');
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { PassThrough } = await import('node:stream');
  const origin = await mirror();
  const l = await startTestLarder({ preset: ['debian'] });
  const list = join(mkdtempSync(join(tmpdir(), 'larder-warm-')), 'urls.txt');
  writeFileSync(list, `# CI burst\n${origin.url}${deb}\n${origin.url}/debian/pool/main/f/figlet/figlet_2.2.5-3_amd64.deb\n\nhttp://127.0.0.1:1/unreachable.deb\n`);
  const run = async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const code = await runWarm({ proxy: l.url, file: list, out, isTTY: false });
    return { code, text };
  };
  const first = await run();
  assert.equal(first.code, 1, 'one URL fails');
  assert.match(first.text, /stored\D+2/i);
  assert.match(first.text, /failed\D+1/i);
  const second = await run();
  assert.match(second.text, /already fresh\D+2|fresh\D+2/i);
  assert.equal(origin.count(deb), 1);
  await l.stop();
  await origin.close();
});
