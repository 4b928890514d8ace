/**
 * The RFC 9111 conformance suite (modelled on cache-tests.fyi) through a real larder in forward and reverse
 * mode: every required case must pass in both. Optimal cases are reported, not asserted here; the full
 * table comes from `node --import tsx test/conformance/score.ts`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { allCases } from './cases/index.js';
import { startHarness, type Harness, type Mode } from './runner.js';
import { score } from './report.js';
import type { CaseResult } from './types.js';

let harness: Harness;
const results = {} as Record<Mode, CaseResult[]>;

before(async () => {
  harness = await startHarness();
  const [forward, reverse] = await Promise.all((['forward', 'reverse'] as Mode[]).map((m) => harness.run(allCases, m)));
  results.forward = forward!;
  results.reverse = reverse!;
});
after(async () => {
  await harness.close();
});

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`every required conformance case passes in ${mode} mode`, () => {
    const failing = results[mode].filter((r) => r.kind === 'required' && !r.skipped && !r.passed);
    assert.deepEqual(failing.map((r) => `${r.id}: ${r.problems.join('; ')}`), []);
    const s = score(results[mode]);
    assert.ok(s.requiredTotal >= 100, `only ${s.requiredTotal} required cases ran`);
  });

  test(`optimal conformance in ${mode} mode stays at or above 90%`, () => {
    const s = score(results[mode]);
    assert.ok(s.optimalPassed / s.optimalTotal >= 0.9, `optimal ${s.optimalPassed}/${s.optimalTotal}`);
  });
}

test('skipped cases are few and each says why', () => {
  const skipped = allCases.filter((c) => c.skipReason !== undefined);
  assert.ok(skipped.length <= 6, `${skipped.length} skipped`);
  for (const c of skipped) assert.ok(c.skipReason!.length > 20, c.id);
});
