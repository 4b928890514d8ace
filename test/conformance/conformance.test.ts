/**
 * The RFC 9111 conformance suite (modelled on cache-tests.fyi) through a real larder in forward and reverse
 * mode, on the memory store and on the default tiered LMDB disk store: every required case must pass in all
 * four. Optimal cases are reported, not asserted here; the full table comes from
 * `node --import tsx test/conformance/score.ts`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { allCases } from './cases/index.js';
import { startHarness, type Harness, type Mode } from './runner.js';
import { score } from './report.js';
import type { CaseResult } from './types.js';

type StoreKind = 'memory' | 'disk';
const STORES: StoreKind[] = ['memory', 'disk'];
const MODES: Mode[] = ['forward', 'reverse'];

const harnesses: Harness[] = [];
const results = {} as Record<StoreKind, Record<Mode, CaseResult[]>>;

before(async () => {
  // one store after the other: all cases of both modes already run at once (some 700 concurrent exchanges)
  for (const store of STORES) {
    const harness = await startHarness({ disk: store === 'disk' });
    harnesses.push(harness);
    const [forward, reverse] = await Promise.all(MODES.map((m) => harness.run(allCases, m)));
    results[store] = { forward: forward!, reverse: reverse! };
  }
});
after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});

for (const store of STORES) {
  for (const mode of MODES) {
    test(`every required conformance case passes in ${mode} mode on the ${store} store`, () => {
      const failing = results[store][mode].filter((r) => r.kind === 'required' && !r.skipped && !r.passed);
      assert.deepEqual(failing.map((r) => `${r.id}: ${r.problems.join('; ')}`), []);
      const s = score(results[store][mode]);
      assert.ok(s.requiredTotal >= 100, `only ${s.requiredTotal} required cases ran`);
    });

    test(`optimal conformance in ${mode} mode on the ${store} store stays at or above 90%`, () => {
      const s = score(results[store][mode]);
      assert.ok(s.optimalPassed / s.optimalTotal >= 0.9, `optimal ${s.optimalPassed}/${s.optimalTotal}`);
    });
  }
}

test('skipped cases are few and each says why', () => {
  const skipped = allCases.filter((c) => c.skipReason !== undefined);
  assert.ok(skipped.length <= 6, `${skipped.length} skipped`);
  for (const c of skipped) assert.ok(c.skipReason!.length > 20, c.id);
});
