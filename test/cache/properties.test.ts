import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCacheControl, conflictingDirectives, deltaSeconds } from '../../src/cache/cache-control.js';
import { parseRange } from '../../src/cache/range.js';
import { formatHttpDate, parseHttpDate } from '../../src/cache/http-date.js';
import { primaryKey } from '../../src/cache/key.js';
import { variantId } from '../../src/cache/vary.js';
import { parseEntityTagList } from '../../src/cache/conditional.js';
import { decideUse, makeStoredPolicy, ttl } from '../../src/cache/policy.js';

const RUNS = { numRuns: 500 };

test('parseCacheControl never throws and only yields lower-case names', () => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.array(fc.string())), (v) => {
    const d = parseCacheControl(v);
    conflictingDirectives(v);
    for (const [name, value] of d) {
      assert.equal(name, name.toLowerCase());
      assert.ok(value === true || typeof value === 'string');
      deltaSeconds(value);
    }
  }), RUNS);
});

test('parseRange never throws, and satisfiable ranges lie within the representation, sorted and disjoint', () => {
  const header = fc.oneof(fc.string(), fc.array(fc.oneof(fc.nat(200).map(String), fc.constant('')), { minLength: 1, maxLength: 6 })
    .chain((nums) => fc.constant('bytes=' + nums.map((n, i) => (i % 2 === 0 ? `${n}-` : n)).join(''))),
  fc.array(fc.tuple(fc.option(fc.nat(300)), fc.option(fc.nat(300))), { minLength: 1, maxLength: 20 })
    .map((specs) => 'bytes=' + specs.map(([a, b]) => `${a ?? ''}-${b ?? ''}`).join(',')));
  fc.assert(fc.property(header, fc.nat(250), (h, size) => {
    const r = parseRange(h, size);
    if (r.kind !== 'ranges') return;
    let prevEnd = -2;
    for (const { start, end } of r.ranges) {
      assert.ok(start >= 0 && start <= end && end < size, `${h} / ${size}`);
      assert.ok(start > prevEnd + 1, 'coalesced and sorted');
      prevEnd = end;
    }
  }), RUNS);
});

test('parseHttpDate never throws and formatHttpDate round-trips', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const v = parseHttpDate(s);
    assert.ok(v === undefined || Number.isFinite(v));
  }), RUNS);
  fc.assert(fc.property(fc.integer({ min: 0, max: 253402300799 }), (secs) => {
    assert.equal(parseHttpDate(formatHttpDate(secs * 1000)), secs * 1000);
  }), RUNS);
});

test('parseEntityTagList never throws', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const r = parseEntityTagList(s);
    assert.ok(r === '*' || Array.isArray(r));
  }), RUNS);
});

const host = fc.stringMatching(/^[a-z][a-z0-9]{0,10}(\.[a-z]{2,5}){1,2}$/);
const segment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,8}$/);
const path = fc.array(segment, { maxLength: 4 }).map((s) => '/' + s.join('/'));
const query = fc.option(fc.array(fc.tuple(segment, segment), { minLength: 1, maxLength: 3 })
  .map((kv) => kv.map(([k, v]) => `${k}=${v}`).join('&')), { nil: undefined });

/** randomly upper-cases letters */
const recase = (s: string, mask: number): string => [...s].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');

test('primaryKey: case and default-port variants of a URL map to the same key', () => {
  fc.assert(fc.property(fc.constantFrom('http', 'https'), host, path, query, fc.integer(), fc.boolean(),
    (scheme, h, p, q, mask, withPort) => {
      const canonical = `${scheme}://${h}${p}${q === undefined ? '' : '?' + q}`;
      const port = withPort ? (scheme === 'http' ? ':80' : ':443') : '';
      const variant = `${recase(scheme, mask)}://${recase(h, mask)}${port}${p}${q === undefined ? '' : '?' + q}#frag`;
      assert.equal(primaryKey(variant), primaryKey(canonical));
    }), RUNS);
});

test('primaryKey: different paths or queries never collide', () => {
  fc.assert(fc.property(host, path, query, path, query, (h, p1, q1, p2, q2) => {
    const a = `http://${h}${p1}${q1 === undefined ? '' : '?' + q1}`;
    const b = `http://${h}${p2}${q2 === undefined ? '' : '?' + q2}`;
    fc.pre(p1 !== p2 || q1 !== q2);
    assert.notEqual(primaryKey(a), primaryKey(b));
  }), RUNS);
});

test('variantId: different value vectors never collide', () => {
  const values = fc.array(fc.option(fc.string({ maxLength: 6 }), { nil: null }), { minLength: 1, maxLength: 3 });
  fc.assert(fc.property(values, values, (a, b) => {
    const names = ['x', 'y', 'z'];
    const na = names.slice(0, a.length);
    const nb = names.slice(0, b.length);
    fc.pre(JSON.stringify(a) !== JSON.stringify(b));
    assert.notEqual(variantId(na, a), variantId(nb, b));
  }), RUNS);
});

test('decideUse: without request directives, a max-age response is served exactly while ttl > 0', () => {
  const opts = { shareSetCookie: false, heuristicPercent: 10, heuristicMaxSeconds: 86400 };
  const now0 = Date.UTC(2024, 0, 1);
  fc.assert(fc.property(fc.nat(100000), fc.nat(1000), fc.nat(200000), (maxAge, age, elapsed) => {
    const p = makeStoredPolicy({ status: 200, headers: { 'cache-control': `max-age=${maxAge}`, age: String(age), date: formatHttpDate(now0) } }, now0, now0, opts);
    const now = now0 + elapsed * 1000;
    const d = decideUse(p, {}, now);
    assert.equal(d.action === 'serve', ttl(p, now) > 0);
    assert.equal(ttl(p, now), maxAge - age - elapsed);
  }), RUNS);
});
