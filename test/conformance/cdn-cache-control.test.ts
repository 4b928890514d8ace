/**
 * RFC 9213 with a target list of two fields (`--cdn-cache-control-name Larder-Cache-Control,CDN-Cache-Control`)
 * obeyed in both modes (`--cdn-cache-control-forward`), on the memory and on the disk store. The default
 * configuration's cases (CDN-Cache-Control, reverse mode only) run with the whole suite in conformance.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cdnListCases } from './cases/cdn-cache-control.js';
import { startHarness, type Harness, type Mode } from './runner.js';
import type { CaseResult } from './types.js';

const harnesses: Harness[] = [];
const results: Record<string, CaseResult[]> = {};

before(async () => {
  await Promise.all((['memory', 'disk'] as const).map(async (store) => {
    const h = await startHarness({ disk: store === 'disk', cdnCacheControlName: ['Larder-Cache-Control', 'CDN-Cache-Control'], cdnCacheControlForward: true });
    harnesses.push(h);
    for (const mode of ['forward', 'reverse'] as Mode[]) results[`${mode} mode on the ${store} store`] = await h.run(cdnListCases, mode);
  }));
});
after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});

for (const where of ['forward mode on the memory store', 'reverse mode on the memory store', 'forward mode on the disk store', 'reverse mode on the disk store']) {
  test(`targeted field list: every case passes in ${where}`, () => {
    const failing = results[where]!.filter((r) => !r.passed);
    assert.deepEqual(failing.map((r) => `${r.id}: ${r.problems.join('; ')}`), []);
    assert.equal(results[where]!.length, cdnListCases.length);
  });
}
