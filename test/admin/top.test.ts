import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SpaceSaving } from '../../src/admin/top.js';

test('exact while the distinct keys fit', () => {
  const s = new SpaceSaving(10);
  for (let i = 0; i < 5; i++) s.add('a');
  s.add('b', 3);
  s.add('c');
  assert.deepEqual(s.top(2), [{ key: 'a', count: 5, error: 0 }, { key: 'b', count: 3, error: 0 }]);
  assert.equal(s.totalWeight, 9);
});

test('memory stays bounded and heavy hitters survive a long tail', () => {
  const s = new SpaceSaving(20);
  for (let i = 0; i < 20_000; i++) {
    s.add(i % 4 === 0 ? 'heavy' : `tail-${i}`);
    if (i % 10 === 0) s.add('medium');
  }
  assert.equal(s.size, 20);
  const top = s.top(2).map((e) => e.key);
  assert.deepEqual(top, ['heavy', 'medium']);
});

test('long keys are cut', () => {
  const s = new SpaceSaving(4, 16);
  s.add('x'.repeat(1000));
  assert.equal(s.top(1)[0]!.key.length, 16);
});

test('property: counts bound the truth, and every key above total/capacity is reported', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 5 })), { maxLength: 300 }),
    fc.integer({ min: 1, max: 12 }),
    (stream, capacity) => {
      const s = new SpaceSaving(capacity);
      const truth = new Map<string, number>();
      let total = 0;
      for (const [k, w] of stream) {
        s.add(`k${k}`, w);
        truth.set(`k${k}`, (truth.get(`k${k}`) ?? 0) + w);
        total += w;
      }
      const reported = new Map(s.top(capacity).map((e) => [e.key, e]));
      for (const [key, e] of reported) {
        const t = truth.get(key)!;
        assert.ok(e.count >= t && e.count - e.error <= t, `${key}: count ${e.count} error ${e.error} truth ${t}`);
      }
      for (const [key, t] of truth) if (t > total / capacity) assert.ok(reported.has(key), `${key} (${t} of ${total}) missing`);
    },
  ), { numRuns: 300 });
});
