/**
 * Partial content through the cache engine (RFC 9111 §3.3, §3.4), no socket: a memory store, a scripted
 * upstream and an injected clock. What the origin is asked for when stored parts are completed, and how the
 * engine falls back when the origin's answer cannot be combined.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scriptedEngine, type Script } from '../helpers/engine-harness.js';
import type { UpstreamRequest } from '../../src/cache/request.js';
import { UpstreamFailure } from '../../src/errors.js';

const setup = scriptedEngine;


const WHOLE = '0123456789abcdef';
/** The origin: a Range request gets that single range as a 206 (ETag `etag`), any other request the whole. */
function origin(etag = () => '"a"'): Script {
  return (req) => {
    const range = fieldOf(req, 'range');
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    const base = { 'cache-control': 'max-age=60', etag: etag(), 'content-type': 'text/plain' };
    if (!m) return { status: 200, headers: base, body: WHOLE };
    const first = Number(m[1]); const last = m[2] ? Math.min(Number(m[2]), 15) : 15;
    return { status: 206, headers: { ...base, 'content-range': `bytes ${first}-${last}/16` }, body: WHOLE.slice(first, last + 1) };
  };
}
function fieldOf(req: UpstreamRequest, name: string): string | undefined {
  for (let i = 0; i < req.headers.length; i += 2) if (req.headers[i]!.toLowerCase() === name) return req.headers[i + 1];
  return undefined;
}

test('§3.4 the first bytes stored: only bytes=N- is asked, with If-Range, and the combined whole is stored', async () => {
  const s = setup(origin());
  const first = await s.ask({ range: 'bytes=0-5' });
  assert.equal(first.status, 206);
  assert.match(first.out.cacheStatus, /fwd=uri-miss; fwd-status=206; stored/);
  const rest = await s.ask({});
  assert.equal(s.sent.length, 2);
  assert.equal(fieldOf(s.sent[1]!, 'range'), 'bytes=6-');
  assert.equal(fieldOf(s.sent[1]!, 'if-range'), '"a"');
  assert.equal(rest.status, 200);
  assert.equal(rest.body, WHOLE);
  assert.equal(rest.header('content-length'), '16');
  assert.equal(rest.header('content-range'), undefined);
  assert.equal(rest.out.cacheStatus, 'larder; fwd=partial; fwd-status=206; stored');
  // the parts are gone, the complete response is stored
  const entries = await s.store.lookup('http://origin/x');
  assert.deepEqual(entries.map((e) => e.status), [200]);
  const hit = await s.ask({ range: 'bytes=10-11' });
  assert.equal(s.sent.length, 2);
  assert.equal(hit.status, 206);
  assert.equal(hit.body, 'ab');
});

test('§3.4 a rest with another ETag is not combined: the client\'s own request goes upstream', async () => {
  let tag = '"a"';
  const s = setup(origin(() => tag));
  await s.ask({ range: 'bytes=0-5' });
  tag = '"b"';
  const out = await s.ask({ range: 'bytes=4-9' });
  assert.equal(s.sent.length, 3);
  assert.equal(fieldOf(s.sent[1]!, 'range'), 'bytes=6-');
  assert.equal(fieldOf(s.sent[2]!, 'range'), 'bytes=4-9', 'the request as the client sent it');
  assert.equal(fieldOf(s.sent[2]!, 'if-range'), undefined);
  assert.equal(out.status, 206);
  assert.equal(out.body, '456789');
  assert.ok(!(await s.store.lookup('http://origin/x')).some((e) => e.status === 200 && e.headers.some(([n, v]) => n === 'etag' && v === '"a"')));
});

test('§3.4 the origin failing while the rest is fetched gives its error, marked fwd=partial', async () => {
  let fail = false;
  const ok = origin();
  const s = setup((req, now) => (fail ? new UpstreamFailure('failed', 'connect refused', 'connect-refused') : ok(req, now)));
  await s.ask({ range: 'bytes=0-5' });
  fail = true;
  const out = await s.ask({});
  assert.equal(out.out.kind, 'error');
  assert.match(out.out.cacheStatus, /fwd=partial/);
});

test('§3.3 a stale part is not used: the range goes upstream again', async () => {
  const s = setup(origin());
  await s.ask({ range: 'bytes=0-9' });
  const hit = await s.ask({ range: 'bytes=2-3' });
  assert.equal(s.sent.length, 1);
  assert.equal(hit.out.cacheStatus, 'larder; hit; ttl=60');
  assert.equal(hit.header('content-range'), 'bytes 2-3/16');
  s.advance(61_000);
  await s.ask({ range: 'bytes=2-3' });
  assert.equal(s.sent.length, 2);
});

test('§4.4 an unsafe method removes the stored parts with the rest', async () => {
  const s = setup((req, now) => (req.method === 'POST' ? { status: 200, body: 'done' } : origin()(req, now)));
  await s.ask({ range: 'bytes=0-9' });
  assert.equal((await s.store.lookup('http://origin/x')).length, 1);
  await s.ask({}, 'POST');
  assert.equal((await s.store.lookup('http://origin/x')).length, 0);
});

test('§3.3 a multipart/byteranges 206 or one of unknown length is not stored', async () => {
  for (const cr of [undefined, 'bytes 0-4/*']) {
    const s = setup(() => ({ status: 206, headers: { 'cache-control': 'max-age=60', etag: '"a"', ...(cr ? { 'content-range': cr } : { 'content-type': 'multipart/byteranges; boundary=x' }) }, body: '01234' }));
    const out = await s.ask({ range: 'bytes=0-1,3-4' });
    assert.match(out.out.cacheStatus, /detail=partial-unplaceable/);
    assert.equal((await s.store.lookup('http://origin/x')).length, 0);
  }
});

test('a part is stored under its own variant slot, beside the complete response\'s', async () => {
  const s = setup(origin());
  await s.ask({ range: 'bytes=3-7' });
  const [e] = await s.store.lookup('http://origin/x');
  assert.equal(e!.variant, '.p3-7');
  assert.equal(e!.size, 5);
});
