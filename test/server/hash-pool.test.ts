/** bcrypt in worker threads: same hashes as bcryptjs, the event loop stays free, the queue is bounded. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { HashPool, HashPoolBusyError } from '../../src/server/hash-pool.js';

test('the pool computes the same bcrypt hash as bcryptjs, while the event loop keeps turning', async () => {
  const pool = new HashPool({ threads: 1 });
  const salt = bcrypt.genSaltSync(10);
  let turns = 0;
  let worstGap = 0;
  let last = Date.now();
  const tick = setInterval(() => { const now = Date.now(); worstGap = Math.max(worstGap, now - last); last = now; turns++; }, 5);
  const hashes = await Promise.all([pool.bcrypt('correct horse', salt), pool.bcrypt('other', salt), pool.bcrypt('third', salt)]);
  clearInterval(tick);
  assert.equal(hashes[0], bcrypt.hashSync('correct horse', salt));
  assert.equal(hashes[1], bcrypt.hashSync('other', salt));
  assert.ok(turns > 3, `the loop turned ${turns} times`);
  assert.ok(worstGap < 200, `the event loop was blocked for ${worstGap} ms`);
  await pool.close();
});

test('past maxQueued a check is refused at once with HashPoolBusyError', async () => {
  const pool = new HashPool({ threads: 1, maxQueued: 2 });
  const salt = bcrypt.genSaltSync(8);
  const a = pool.bcrypt('a', salt);
  const b = pool.bcrypt('b', salt);
  await assert.rejects(pool.bcrypt('c', salt), HashPoolBusyError);
  await Promise.all([a, b]);
  assert.equal(pool.pending, 0);
  assert.equal(await pool.bcrypt('d', salt), bcrypt.hashSync('d', salt), 'free again once the queue drained');
  await pool.close();
});
