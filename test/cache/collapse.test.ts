/** The collapser: one leader per key, followers wait, bounded by the timeout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Collapser } from '../../src/cache/collapse.js';

test('one leader per key; followers get its outcome; the key is free again afterwards', async () => {
  const c = new Collapser(1000);
  const finish = c.lead('k')!;
  assert.ok(finish);
  assert.equal(c.lead('k'), undefined, 'a second leader for the same key');
  assert.ok(c.lead('other'));
  const waiting = c.wait('k');
  finish({ stored: true });
  assert.deepEqual(await waiting, { stored: true, timedOut: false });
  assert.equal(c.has('k'), false);
  assert.ok(c.lead('k'));
});

test('waiting is bounded: a follower gives up after the timeout', async () => {
  const c = new Collapser(50);
  c.lead('slow');
  const started = Date.now();
  const keepAlive = setTimeout(() => undefined, 2000); // the collapser's own timer does not hold the process
  const r = await c.wait('slow');
  clearTimeout(keepAlive);
  assert.deepEqual(r, { stored: false, timedOut: true });
  assert.ok(Date.now() - started < 1000);
});

test('finishing twice is harmless and waiting without a flight returns at once', async () => {
  const c = new Collapser(1000);
  const finish = c.lead('k')!;
  finish({ stored: false });
  finish({ stored: true });
  assert.deepEqual(await c.wait('k'), { stored: false, timedOut: false });
});

test('past maxFlights a request is not collapsed, and the refusal is counted', async () => {
  const c = new Collapser(1000, 2);
  const a = c.lead('a');
  const b = c.lead('b');
  assert.ok(a && b);
  assert.equal(c.lead('c'), undefined, 'no third flight');
  assert.equal(c.has('c'), false);
  assert.deepEqual(await c.wait('c'), { stored: false, timedOut: false }, 'nothing to wait for: it goes upstream alone');
  assert.equal(c.lead('a'), undefined, 'a follower of a running flight is not a refusal');
  assert.equal(c.refusedAtMax, 1);
  a({ stored: true });
  assert.ok(c.lead('c'), 'a slot is free again');
  assert.equal(c.refusedAtMax, 1);
});
