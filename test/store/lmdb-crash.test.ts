/**
 * kill -9 during heavy writes: reopen must work without repair, and every visible entry must be complete
 * and byte-identical to what the writer meant to store. Orphan chunks of the killed writer are collected.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LmdbStore } from '../../src/store/lmdb.js';
import { sizeOf } from './fixtures/crash-bodies.js';
import { tempDir } from './helpers.js';
import { bodyFor, drain } from './suite.js';

const WRITER = join(import.meta.dirname, 'fixtures', 'writer.ts');

function runAndKill(dir: string, start: number, afterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], {
      env: { ...process.env, LARDER_CRASH_START: String(start) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // start the clock once the writer is really writing
      if (timer === undefined && out.includes('\n')) timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      const lines = out.trim().split('\n').filter(Boolean);
      resolve(lines.length === 0 ? start : Number(lines[lines.length - 1]) + 1);
    });
  });
}

describe('LmdbStore crash safety', () => {
  it('survives SIGKILL during writes: reopen works, every visible entry is byte-identical', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    let next = 0;
    for (let round = 0; round < 6; round++) {
      const killAfter = 150 + Math.floor(Math.random() * 900);
      next = await runAndKill(dir, next, killAfter);
      const store = await LmdbStore.open({ dir, budget: 64 * 1024 * 1024, maxObjectSize: 8 * 1024 * 1024 });
      try {
        let visible = 0;
        for (let i = 0; i < next; i++) {
          const [meta] = await store.lookup(`http://crash/${i}`);
          if (!meta) continue; // never committed, or evicted
          visible++;
          const expected = bodyFor(`crash-${i}`, sizeOf(i));
          assert.equal(meta.size, expected.length, `size of ${i}`);
          assert.equal(meta.digest, createHash('sha256').update(expected).digest('base64'), `digest of ${i}`);
          const got = await drain(await store.read(meta));
          assert.ok(got !== undefined && got.equals(expected), `body of ${i}`);
        }
        assert.ok(visible > 0 || next === 0, `round ${round}: some entries committed`);
        const s = store.stats();
        assert.ok(s.bytes <= 64 * 1024 * 1024);
        assert.equal(s.objects, visible, 'object count matches what is visible');
      } finally {
        await store.close();
      }
    }
    assert.ok(next > 6, `the writer made progress (${next} entries started)`);
  });
});
