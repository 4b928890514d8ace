import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { classifyCacheStatus, parseUrlList, runWarm, warmUrls } from '../../src/cli/warm.js';

const dir = mkdtempSync(join(tmpdir(), 'larder-warm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function collector(): { stream: Writable; text: () => string } {
  let buf = '';
  const stream = new Writable({ write(chunk, _enc, cb) { buf += String(chunk); cb(); } });
  return { stream, text: () => buf };
}

function listFile(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n'));
  return p;
}

async function listen(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function close(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = http.createServer();
  const port = await listen(s);
  await close(s);
  return port;
}

const BIG = Buffer.alloc(100_000, 'x');

/** Origin: /big (100 kB), /small, /nostore (the stand-in proxy won't keep it), /missing (404), /redir → /small2, /slow/N. */
function startOrigin() {
  const hits = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    const path = req.url!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/big') return res.end(BIG);
    if (path === '/small' || path === '/small2') return res.end('hello');
    if (path === '/nostore') { res.setHeader('x-test-nostore', '1'); return res.end('volatile'); }
    if (path === '/redir') { res.statusCode = 302; res.setHeader('location', '/small2'); return res.end(); }
    if (path.startsWith('/slow/')) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => { inFlight--; res.end('slow'); }, 30);
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  });
  return { server, hits, maxInFlight: () => maxInFlight };
}

/**
 * A stand-in for larder: forwards absolute-form requests, keeps 200 responses (unless the origin marks
 * them) and says so in Cache-Status the way larder does.
 */
function startStandInProxy() {
  const stored = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const key = req.url!;
    assert.match(key, /^http:\/\//, 'the warm command must send absolute-form requests');
    const cached = stored.get(key);
    if (cached) {
      res.setHeader('cache-status', 'larder; hit');
      return res.end(cached);
    }
    const up = http.request(key, { method: 'GET' }, (ures) => {
      const chunks: Buffer[] = [];
      ures.on('data', (c: Buffer) => chunks.push(c));
      ures.on('end', () => {
        const body = Buffer.concat(chunks);
        const keep = ures.statusCode === 200 && !ures.headers['x-test-nostore'];
        if (keep) stored.set(key, body);
        res.statusCode = ures.statusCode!;
        if (ures.headers.location) res.setHeader('location', ures.headers.location);
        res.setHeader('cache-status', `larder; fwd=uri-miss${keep ? '; stored' : ''}`);
        res.end(body);
      });
    });
    up.on('error', () => {
      res.statusCode = 502;
      res.setHeader('cache-status', 'larder; fwd=uri-miss; detail="connect refused"');
      res.end('bad gateway');
    });
    up.end();
  });
  return { server, stored };
}

function counts(text: string) {
  const n = (label: string) => Number(new RegExp(`^  ${label}\\s+(\\d+)$`, 'm').exec(text)?.[1]);
  return { stored: n('stored'), fresh: n('already fresh'), notStored: n('not stored'), failed: n('failed') };
}

test('parseUrlList ignores blank lines and # comments', () => {
  assert.deepEqual(parseUrlList('# mirror\nhttp://a/x\n\n  http://b/y  \r\n   # indented comment\nhttp://c/z#frag\n'), ['http://a/x', 'http://b/y', 'http://c/z#frag']);
});

test('classifyCacheStatus reads the member nearest the client', () => {
  assert.equal(classifyCacheStatus('larder; fwd=uri-miss; stored'), 'stored');
  assert.equal(classifyCacheStatus('larder; hit'), 'fresh');
  assert.equal(classifyCacheStatus('larder; hit; ttl=30'), 'fresh');
  assert.equal(classifyCacheStatus('larder; fwd=uri-miss'), 'notStored');
  assert.equal(classifyCacheStatus('larder; fwd=uri-miss; stored=?0'), 'notStored');
  assert.equal(classifyCacheStatus('larder; fwd=stale; fwd-status=304'), 'fresh');
  assert.equal(classifyCacheStatus(undefined), 'notStored');
  assert.equal(classifyCacheStatus(''), 'notStored');
  // an upstream cache hit, then larder forwarded and stored: larder (last) decides
  assert.equal(classifyCacheStatus('OriginCDN; hit, larder; fwd=uri-miss; stored'), 'stored');
  // an upstream store, larder did not store
  assert.equal(classifyCacheStatus('OriginCDN; fwd=miss; stored, larder; fwd=bypass'), 'notStored');
  // a comma inside a quoted detail does not split members
  assert.equal(classifyCacheStatus('larder; fwd=uri-miss; detail="a, b"; stored'), 'stored');
});

test('warm twice through a caching proxy: stored, then already fresh; failures counted; exit codes', async () => {
  const origin = startOrigin();
  const proxy = startStandInProxy();
  const originPort = await listen(origin.server);
  const proxyPort = await listen(proxy.server);
  const refused = await deadPort();
  try {
    const o = `http://127.0.0.1:${originPort}`;
    const file = listFile('list.txt', [
      '# warm list', `${o}/big`, '', `${o}/small`, `${o}/nostore`, `${o}/redir`, `${o}/missing`, `http://127.0.0.1:${refused}/x`, 'not a url',
    ]);
    const out1 = collector();
    const code1 = await runWarm({ proxy: `http://127.0.0.1:${proxyPort}`, file, out: out1.stream, isTTY: false });
    assert.equal(code1, 1, out1.text());
    assert.deepEqual(counts(out1.text()), { stored: 3, fresh: 0, notStored: 1, failed: 3 }, out1.text());
    assert.match(out1.text(), /missing\s+HTTP 404/);
    assert.match(out1.text(), new RegExp(`127\\.0\\.0\\.1:${refused}/x\\s+HTTP 502`));
    assert.match(out1.text(), /not a url\s+not a URL/);
    assert.match(out1.text(), /nostore\s+HTTP 200, Cache-Status: larder; fwd=uri-miss/);
    assert.match(out1.text(), /warm: 100% \(7\/7\)/, 'a plain progress line when not on a terminal');
    // every body was read to the end: the proxy stored the big one whole
    assert.equal(proxy.stored.get(`${o}/big`)?.length, BIG.length);
    assert.ok(proxy.stored.has(`${o}/small2`), 'the redirect target was warmed');

    const out2 = collector();
    const code2 = await runWarm({ proxy: `http://127.0.0.1:${proxyPort}`, file, out: out2.stream, isTTY: false });
    assert.equal(code2, 1);
    assert.deepEqual(counts(out2.text()), { stored: 0, fresh: 3, notStored: 1, failed: 3 }, out2.text());
    assert.equal(origin.hits.get('/big'), 1, 'the second run was served by the proxy');
    assert.equal(origin.hits.get('/small'), 1);
    assert.equal(origin.hits.get('/nostore'), 2);

    // nothing failing → exit code 0
    const good = listFile('good.txt', [`${o}/big`, `${o}/small`]);
    const out3 = collector();
    assert.equal(await runWarm({ proxy: `http://127.0.0.1:${proxyPort}`, file: good, out: out3.stream, isTTY: false }), 0);
    assert.deepEqual(counts(out3.text()), { stored: 0, fresh: 2, notStored: 0, failed: 0 });
    assert.match(out3.text(), /warmed 2 URLs in [\d.]+s, 97\.7KiB received/);
  } finally {
    await close(proxy.server);
    await close(origin.server);
  }
});

test('an unreachable proxy: every URL fails with a clear reason', async () => {
  const refused = await deadPort();
  const file = listFile('down.txt', ['http://127.0.0.1:9/a', 'http://127.0.0.1:9/b']);
  const out = collector();
  const code = await runWarm({ proxy: `http://user:secret@127.0.0.1:${refused}`, file, out: out.stream, isTTY: false });
  assert.equal(code, 1);
  assert.deepEqual(counts(out.text()), { stored: 0, fresh: 0, notStored: 0, failed: 2 });
  assert.match(out.text(), new RegExp(`cannot connect to the proxy http://127\\.0\\.0\\.1:${refused} \\(connection refused\\)`));
  assert.doesNotMatch(out.text(), /secret/, 'proxy credentials are not printed');
});

test('concurrency is bounded, and a terminal gets a redrawn progress bar', async () => {
  const origin = startOrigin();
  const proxy = startStandInProxy();
  const originPort = await listen(origin.server);
  const proxyPort = await listen(proxy.server);
  try {
    const urls = Array.from({ length: 8 }, (_, i) => `http://127.0.0.1:${originPort}/slow/${i}`);
    const summary = await warmUrls(urls, { proxy: `http://127.0.0.1:${proxyPort}`, concurrency: 2 });
    assert.equal(summary.stored, 8);
    assert.equal(origin.maxInFlight(), 2, 'at most (and, with 8 slow URLs, exactly) 2 fetches at a time');

    const file = listFile('tty.txt', urls.map((u) => u.replace('/slow/', '/slow/again-')));
    const out = collector();
    assert.equal(await runWarm({ proxy: `http://127.0.0.1:${proxyPort}`, file, concurrency: 3, out: out.stream, isTTY: true }), 0);
    assert.ok(origin.maxInFlight() <= 3);
    assert.match(out.text(), /\r\x1b\[K\[#{24}\] 100% 8\/8 {2}stored 8/);
    assert.doesNotMatch(out.text(), /warm: \d+%/, 'no plain progress lines on a terminal');
  } finally {
    await close(proxy.server);
    await close(origin.server);
  }
});

test('usage errors exit 2 with a one-line message; an empty list exits 0', async () => {
  const empty = listFile('empty.txt', ['# nothing here', '']);
  const cases: Array<[Parameters<typeof runWarm>[0] extends infer O ? Omit<O, 'out'> : never, number, RegExp]> = [
    [{ proxy: 'http://127.0.0.1:3128', file: join(dir, 'does-not-exist.txt') }, 2, /^larder warm: cannot read .*does-not-exist\.txt \(ENOENT\)\n$/],
    [{ proxy: 'not a url', file: empty }, 2, /^larder warm: --proxy: expected an http:\/\/ URL/],
    [{ proxy: 'socks5://127.0.0.1:1080', file: empty }, 2, /^larder warm: --proxy:/],
    [{ proxy: 'http://127.0.0.1:3128', file: empty, concurrency: 0 }, 2, /^larder warm: --concurrency: expected 1\.\.256, got 0\n$/],
    [{ proxy: 'http://127.0.0.1:3128', file: empty }, 0, /^larder warm: no URLs in /],
  ];
  for (const [opts, expected, message] of cases) {
    const out = collector();
    assert.equal(await runWarm({ ...opts, out: out.stream }), expected, JSON.stringify(opts));
    assert.match(out.text(), message);
  }
});
