/** The bounded resolver: a deadline per caller, a cap on outstanding lookups, one lookup per name in flight. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedLookup, DnsTimeoutError } from '../../src/net/resolve.js';

test('hung lookups: each caller fails with DnsTimeoutError at the deadline; at most maxConcurrent are outstanding; the same name shares one lookup', async () => {
  const calls: string[] = [];
  const lookup = boundedLookup({ timeoutMs: 200, maxConcurrent: 2, lookup: (name) => { calls.push(name); return new Promise(() => {}); } });
  const started = Date.now();
  const results = await Promise.allSettled(['a.example', 'b.example', 'a.example', 'c.example', 'd.example'].map((n) => lookup(n, { family: 0 })));
  const ms = Date.now() - started;
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.ok((r as PromiseRejectedResult).reason instanceof DnsTimeoutError);
  }
  assert.match(((results[0] as PromiseRejectedResult).reason as Error).message, /DNS lookup of a\.example timed out after 200 ms/);
  assert.ok(ms >= 190 && ms < 1000, `took ${ms} ms`);
  // a.example once (shared), b.example; c and d waited for a slot and were dropped at their deadline
  assert.deepEqual(calls, ['a.example', 'b.example']);
  assert.equal(lookup.outstanding, 2, 'the hung lookups still hold their slots');
});

test('answers pass through; a slot is freed when a lookup settles', async () => {
  const calls: string[] = [];
  const lookup = boundedLookup({ timeoutMs: 1000, maxConcurrent: 1, lookup: async (name) => { calls.push(name); return [{ address: '192.0.2.1', family: 4 }]; } });
  const [a, b] = await Promise.all([lookup('a.example', { family: 0 }), lookup('b.example', { family: 4 })]);
  assert.deepEqual(a, [{ address: '192.0.2.1', family: 4 }]);
  assert.deepEqual(b, [{ address: '192.0.2.1', family: 4 }]);
  assert.deepEqual(calls, ['a.example', 'b.example']);
  assert.equal(lookup.outstanding, 0);
});
