/** Several processes on one directory; open errors that name the directory and say what to do. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { open as openLmdb } from 'lmdb';
import { StoreOpenError } from '../../src/store/errors.js';
import { DB_FILE, LmdbStore } from '../../src/store/lmdb.js';
import { tempDir } from './helpers.js';
import { bodyFor, drain, initFor, put } from './suite.js';

const run = promisify(execFile);
const FIXTURES = join(import.meta.dirname, 'fixtures');
const child = (args: string[], uid?: number) =>
  run(process.execPath, ['--import', 'tsx', ...args], { timeout: 20_000, ...(uid !== undefined ? { uid, gid: uid } : {}) });

describe('LmdbStore shared by processes', () => {
  it("one process's commit is visible to the other, both ways", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const store = await LmdbStore.open({ dir, budget: 64e6, maxObjectSize: 8e6 });
    try {
      await child([join(FIXTURES, 'writer.ts'), dir, 'once', 'http://shared/child', '400000']);
      const [meta] = await store.lookup('http://shared/child');
      assert.ok(meta, 'parent sees the child commit');
      assert.deepEqual(await drain(await store.read(meta)), bodyFor('http://shared/child', 400000));
      const waiting = child([join(FIXTURES, 'writer.ts'), dir, 'wait', 'http://shared/parent']);
      await new Promise((r) => setTimeout(r, 300));
      await put(store, initFor('http://shared/parent'), Buffer.from('from parent'));
      assert.equal((await waiting).stdout.trim(), 'seen');
      assert.equal(store.stats().objects, 2, 'one account for both processes');
    } finally {
      await store.close();
    }
  });
});

describe('LmdbStore open errors', () => {
  it('refuses another store format version with StoreOpenError naming the directory', async () => {
    const dir = tempDir();
    const env = openLmdb({ path: join(dir, DB_FILE), maxDbs: 8 });
    env.openDB<number, string>({ name: 'state' }).putSync('version', 999);
    await env.close();
    await assert.rejects(LmdbStore.open({ dir, budget: 1e7, maxObjectSize: 1e6 }), (err: unknown) => {
      assert.ok(err instanceof StoreOpenError);
      assert.equal(err.code, 'LARDER_ERR_STORE_OPEN');
      assert.match(err.message, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
      assert.match(err.message, /format 999/);
      assert.match(err.message, /--cache-dir/);
      return true;
    });
  });

  it('refuses a corrupt file (not LMDB) without crashing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, DB_FILE), Buffer.alloc(64 * 1024, 7));
    await assert.rejects(LmdbStore.open({ dir, budget: 1e7, maxObjectSize: 1e6 }), (err: unknown) => {
      assert.ok(err instanceof StoreOpenError);
      assert.ok(err.message.includes(dir) && /not an LMDB file/.test(err.message));
      return true;
    });
  });

  it('reports permission denied as StoreOpenError naming the directory', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    chmodSync(dir, 0o755);
    if (process.getuid?.() === 0) {
      // root ignores modes: probe as nobody in a child process
      const { stdout } = await child([join(FIXTURES, 'open-probe.ts'), locked], 65534);
      const [code, message] = stdout.trim().split('\n');
      assert.equal(code, 'LARDER_ERR_STORE_OPEN');
      assert.ok(message!.includes(locked) && /permission denied/.test(message!), message);
    } else {
      chmodSync(locked, 0o000);
      try {
        await assert.rejects(LmdbStore.open({ dir: locked, budget: 1e7, maxObjectSize: 1e6 }), (err: unknown) => {
          assert.ok(err instanceof StoreOpenError);
          assert.ok(err.message.includes(locked) && /permission denied/.test(err.message));
          return true;
        });
      } finally {
        chmodSync(locked, 0o700);
      }
    }
  });
});
