/**
 * kill -9 during heavy writes: reopen must work without repair, a commit acknowledged before the kill must
 * still be there, and every visible entry must be complete and byte-identical (same sha256) to what the
 * writer meant to store. Orphan chunks of the killed writer are collected.
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

interface Round {
  /** first index the next round starts at */
  next: number;
  /** the last entry whose commit() had resolved before the kill, if any */
  lastCommitted: number | undefined;
}

function runAndKill(dir: string, start: number, afterMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], {
      env: { ...process.env, LARDER_CRASH_START: String(start) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // start the clock once the writer has committed something (so every round has a commit to check)
      if (timer === undefined && /^c\d+$/m.test(out)) timer = setTimeout(() => child.kill('SIGKILL'), afterMs);
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      const lines = out.trim().split('\n').filter(Boolean);
      const started = lines.filter((l) => !l.startsWith('c')).map(Number);
      const committed = lines.filter((l) => l.startsWith('c')).map((l) => Number(l.slice(1)));
      resolve({ next: started.length === 0 ? start : started[started.length - 1]! + 1, lastCommitted: committed[committed.length - 1] });
    });
  });
}

describe('LmdbStore crash safety', () => {
  it('survives SIGKILL during writes: reopen works, acknowledged commits stay, every visible entry is byte-identical', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    let next = 0;
    /** sha256 of what the writer meant to store, per entry: bodies are slow to regenerate every round */
    const expectedDigests = new Map<number, string>();
    const expectedDigest = (i: number): string => {
      let d = expectedDigests.get(i);
      if (d === undefined) expectedDigests.set(i, (d = createHash('sha256').update(bodyFor(`crash-${i}`, sizeOf(i))).digest('base64')));
      return d;
    };
    for (let round = 0; round < 6; round++) {
      const killAfter = 150 + Math.floor(Math.random() * 900);
      const result = await runAndKill(dir, next, killAfter);
      next = result.next;
      const store = await LmdbStore.open({ dir, budget: 64 * 1024 * 1024, maxObjectSize: 8 * 1024 * 1024 });
      try {
        let visible = 0;
        for (let i = 0; i < next; i++) {
          const [meta] = await store.lookup(`http://crash/${i}`);
          if (!meta) continue; // never committed, or evicted
          visible++;
          assert.equal(meta.size, sizeOf(i), `size of ${i}`);
          assert.equal(meta.digest, expectedDigest(i), `digest of ${i}`);
          const got = await drain(await store.read(meta));
          assert.ok(got !== undefined && got.length === sizeOf(i), `body length of ${i}`);
          assert.equal(createHash('sha256').update(got).digest('base64'), expectedDigest(i), `body of ${i} (sha256)`);
        }
        // a commit that resolved before kill -9 is durable; the newest one cannot have been evicted yet
        assert.ok(result.lastCommitted !== undefined, `round ${round}: the writer acknowledged a commit`);
        assert.equal((await store.lookup(`http://crash/${result.lastCommitted}`)).length, 1, `round ${round}: acknowledged commit ${result.lastCommitted} survived the kill`);
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
