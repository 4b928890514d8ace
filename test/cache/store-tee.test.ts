/** The store tee on its own: the abandonment rule (Squid's quick_abort_*) and the bounded commit wait. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreFill, finishAbandonedFill, type AbandonRule } from '../../src/cache/store-tee.js';
import type { EntryWriter, EntryMeta } from '../../src/store/types.js';

const rule: AbandonRule = { minBytes: 100, maxBytes: 1000, percent: 90 };

test('abandoned fill: finish when little remains, abort when much remains or the length is unknown', () => {
  assert.equal(finishAbandonedFill(950, 1000, rule), true, '50 B left < min');
  assert.equal(finishAbandonedFill(0, 5000, rule), false, '5000 B left > max');
  assert.equal(finishAbandonedFill(9500, 10_000, rule), true, '500 B left, 95% arrived');
  assert.equal(finishAbandonedFill(2000, 2800, rule), false, '800 B left, 71% arrived');
  assert.equal(finishAbandonedFill(10, undefined, rule), false, 'unknown length');
});

function writer(commitMs: number): EntryWriter & { aborted: boolean; committed: boolean } {
  const w = {
    aborted: false, committed: false,
    write() { return undefined; },
    commit() { return new Promise<EntryMeta>((r) => setTimeout(() => { w.committed = true; r({} as EntryMeta); }, commitMs)); },
    abort() { w.aborted = true; },
  };
  return w;
}
const base = { abandon: rule, othersWaiting: () => false };

test('the held last chunk waits for the commit at most commitWaitMs; the commit still completes', async () => {
  let slow = 0;
  const w = writer(200);
  const fill = new StoreFill(w, { ...base, expectedSize: 3, commitWaitMs: 20, onSlowCommit: () => slow++ });
  assert.equal(await fill.write(Buffer.from('abc')), true, 'the chunk that completes the body is reported');
  assert.equal(await fill.commit(), 'slow');
  assert.equal(slow, 1);
  assert.equal(w.committed, false);
  assert.equal(await fill.settled, true, 'the entry is committed in the background');
});

test('a fast commit is reported stored, not slow', async () => {
  let slow = 0;
  const fill = new StoreFill(writer(0), { ...base, expectedSize: 1, commitWaitMs: 1000, onSlowCommit: () => slow++ });
  await fill.write(Buffer.from('a'));
  assert.equal(await fill.commit(), 'stored');
  assert.equal(slow, 0);
});

test('a fill that others wait for is never abandoned; one nobody waits for is aborted and counted', async () => {
  let waiting = true;
  let abandoned = 0;
  const w = writer(0);
  const fill = new StoreFill(w, { ...base, expectedSize: 100_000, commitWaitMs: 1000, othersWaiting: () => waiting, onAbandoned: () => abandoned++ });
  await fill.write(Buffer.alloc(10));
  assert.equal(fill.continueWithoutClient(), true);
  waiting = false;
  assert.equal(fill.continueWithoutClient(), false);
  assert.equal(w.aborted, true);
  assert.equal(abandoned, 1);
  assert.equal(await fill.settled, false);
});
