/**
 * The cache engine with no socket: a memory store, a scripted upstream and an injected clock. Time moves by
 * setting the clock, so freshness, revalidation and the offline grace are tested instantly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scriptedEngine } from '../helpers/engine-harness.js';
import { UpstreamFailure } from '../../src/errors.js';

const setup = scriptedEngine;

test('a fresh entry is a hit until the clock passes max-age, then it is revalidated (no sleeping)', async () => {
  const s = setup((req) => (req.headers.includes('if-none-match')
    ? { status: 304, headers: { etag: '"a"', 'cache-control': 'max-age=60' } }
    : { status: 200, headers: { etag: '"a"', 'cache-control': 'max-age=60' }, body: 'v1' }));
  const miss = await s.ask();
  assert.equal(miss.out.cacheStatus, 'larder; fwd=uri-miss; fwd-status=200; stored; ttl=60');
  s.advance(59_000);
  const hit = await s.ask();
  assert.equal(hit.out.kind, 'stored');
  assert.equal(hit.header('age'), '59');
  assert.equal(hit.body, 'v1');
  assert.equal(s.sent.length, 1);
  s.advance(2_000);
  const reval = await s.ask();
  assert.equal(s.sent.length, 2);
  assert.equal(reval.out.result, 'revalidated');
  assert.equal(reval.out.cacheStatus, 'larder; fwd=stale; fwd-status=304; ttl=60');
  assert.equal(reval.body, 'v1');
});

test('§4.2.4 origin unreachable: stale served within the offline grace, with fwd=stale and the cause', async () => {
  let down = false;
  const s = setup(() => (down ? new UpstreamFailure('failed', 'origin refused the connection', 'connect-refused') : { status: 200, headers: { 'cache-control': 'max-age=10' }, body: 'kept' }));
  await s.ask();
  down = true;
  s.advance(60_000);
  const r = await s.ask();
  assert.equal(r.out.kind, 'stored');
  assert.equal(r.body, 'kept');
  assert.equal(r.out.result, 'stale');
  assert.equal(r.out.cacheStatus, 'larder; fwd=stale; ttl=-50; detail=offline:connect-refused');
  s.advance(3_600_000); // now 50 s + 1 h stale: past the grace
  const gone = await s.ask();
  assert.equal(gone.out.kind, 'error');
  assert.match(gone.out.cacheStatus, /detail=connect-refused/);
});

test('§4.2.4 a 5xx is an answer, not a disconnection: no offline grace for it', async () => {
  let failing = false;
  const s = setup(() => (failing ? { status: 503, body: 'down' } : { status: 200, headers: { 'cache-control': 'max-age=10' }, body: 'kept' }));
  await s.ask();
  failing = true;
  s.advance(60_000);
  const r = await s.ask();
  assert.equal(r.status, 503);
  assert.equal(r.body, 'down');
});

test('§4.2.4 must-revalidate, proxy-revalidate, s-maxage and no-cache are never served offline', async () => {
  for (const cc of ['max-age=10, must-revalidate', 'max-age=10, proxy-revalidate', 's-maxage=10', 'no-cache']) {
    let down = false;
    const s = setup(() => (down ? new UpstreamFailure('failed', 'reset', 'reset') : { status: 200, headers: { 'cache-control': cc, etag: '"e"' }, body: 'strict' }));
    await s.ask();
    down = true;
    s.advance(60_000);
    const r = await s.ask();
    assert.equal(r.out.kind, 'error', cc);
  }
});

test('offline grace 0 turns it off', async () => {
  let down = false;
  const s = setup(() => (down ? new UpstreamFailure('timeout', 'no answer', 'timeout') : { status: 200, headers: { 'cache-control': 'max-age=10' }, body: 'kept' }), { offlineGrace: 0 });
  await s.ask();
  down = true;
  s.advance(20_000);
  assert.equal((await s.ask()).out.kind, 'error');
});

test('stale-while-revalidate: served stale at once, one background refresh stores the new body', async () => {
  let n = 0;
  const s = setup(() => ({ status: 200, headers: { 'cache-control': 'max-age=1, stale-while-revalidate=60' }, body: `v${++n}` }));
  await s.ask();
  s.advance(5_000);
  const stale = await s.ask();
  assert.equal(stale.body, 'v1');
  assert.match(stale.out.cacheStatus, /detail=stale-while-revalidate/);
  // the background refresh runs on its own; wait for it through the store, not a timer
  for (let i = 0; i < 100 && (await s.ask()).body !== 'v2'; i++) await new Promise((r) => setImmediate(r));
  assert.equal(s.sent.length, 2);
  assert.equal((await s.ask()).body, 'v2');
});

test('only-if-cached on a miss is a typed error value (504 in the proxy layer)', async () => {
  const s = setup(() => ({ status: 200, body: 'x' }));
  const r = await s.ask({ 'cache-control': 'only-if-cached' });
  assert.equal(r.out.kind, 'error');
  assert.equal(r.out.kind === 'error' && 'status' in r.out.error ? r.out.error.status : 0, 504);
  assert.equal(s.sent.length, 0);
});
