import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/server/rate-limit.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

test('limits a key after max failures within the window, other keys unaffected', () => {
  const c = clock();
  const r = new RateLimiter({ max: 3, windowMs: 60_000, now: c.now });
  assert.equal(r.hit('a'), false);
  assert.equal(r.hit('a'), false);
  assert.equal(r.isLimited('a'), false);
  assert.equal(r.hit('a'), true);
  assert.equal(r.isLimited('a'), true);
  assert.equal(r.isLimited('b'), false);
});

test('the sliding window decays: limited just after the boundary, free after two windows', () => {
  const c = clock();
  const r = new RateLimiter({ max: 3, windowMs: 1000, now: c.now });
  for (let i = 0; i < 3; i++) r.hit('a');
  c.advance(1000);
  assert.equal(r.isLimited('a'), true, 'a fixed window would reset here; the sliding one still counts them');
  c.advance(500);
  assert.equal(r.isLimited('a'), false, 'half of the previous window left: 1.5 < 3');
  c.advance(10_000);
  assert.equal(r.isLimited('a'), false);
  assert.equal(r.size, 0, 'an idle key is dropped when checked');
});

test('memory is bounded: the least recently hit key is evicted and counted', () => {
  const c = clock();
  const r = new RateLimiter({ max: 2, windowMs: 60_000, maxKeys: 100, now: c.now });
  r.hit('first');
  r.hit('first');
  assert.equal(r.isLimited('first'), true);
  for (let i = 0; i < 1000; i++) r.hit(`k${i}`);
  assert.equal(r.size, 100);
  assert.equal(r.isLimited('first'), false, 'evicted');
  assert.ok(r.evictions >= 900);
});

test('hitting a key refreshes its recency', () => {
  const c = clock();
  const r = new RateLimiter({ max: 2, windowMs: 60_000, maxKeys: 3, now: c.now });
  r.hit('a');
  r.hit('b');
  r.hit('c');
  r.hit('a'); // a is now the most recent
  r.hit('d'); // evicts b
  assert.equal(r.isLimited('a'), true);
  assert.equal(r.size, 3);
});

test('bad options are refused', () => {
  assert.throws(() => new RateLimiter({ max: 0, windowMs: 1000 }), RangeError);
  assert.throws(() => new RateLimiter({ max: 1, windowMs: 0 }), RangeError);
});
