import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestLarder } from '../helpers/larder.js';

// reflect-metadata (loaded with the x509 modules) defines Reflect.getMetadata globally: a cheap witness
// of whether the TLS interception modules were loaded. Each test file runs in its own process.
const x509Loaded = (): boolean => typeof (Reflect as unknown as { getMetadata?: unknown }).getMetadata === 'function';

test('the TLS interception modules are loaded only when interception is on', async () => {
  const plain = await startTestLarder();
  try {
    assert.equal(x509Loaded(), false, 'a larder without --intercept does not load @peculiar/x509 / reflect-metadata');
  } finally {
    await plain.stop();
  }
  const intercepting = await startTestLarder({ intercept: true });
  try {
    assert.equal(x509Loaded(), true);
  } finally {
    await intercepting.stop();
  }
});
