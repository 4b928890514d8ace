/**
 * Several processes on one cache directory (issue 12 item 9, what workers and containers rely on): each
 * test runs a real second process (fixtures/peer.ts) with its own TieredStore on the same directory.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { LmdbStore, procGone } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { TieredStore } from '../../src/store/tiered.js';
import { tempDir } from './helpers.js';
import { bodyFor, initFor, put } from './suite.js';

const PEER = join(import.meta.dirname, 'fixtures', 'peer.ts');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const MiB = 1024 * 1024;

interface Peer {
  ask(cmd: string): Promise<string>;
  child: ChildProcess;
}

function startPeer(dir: string, budget = 64 * MiB): Peer {
  const child = spawn(process.execPath, ['--import', 'tsx', PEER, dir, String(budget)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Interface = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  after(() => {
    child.stdin!.end('quit\n');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
  return {
    child,
    ask: (cmd) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`peer did not answer ${cmd}`)), 20_000);
        waiting.push((l) => {
          clearTimeout(timer);
          resolve(l);
        });
        child.stdin!.write(cmd + '\n');
      }),
  };
}

async function openTiered(dir: string, budget = 64 * MiB): Promise<{ store: TieredStore; disk: LmdbStore }> {
  const disk = await LmdbStore.open({ dir, budget, maxObjectSize: 16 * MiB });
  const store = new TieredStore(new MemoryStore({ budget: 32 * MiB, maxObjectSize: 2 * MiB }), disk);
  after(() => store.close());
  return { store, disk };
}

describe('several processes on one cache directory', () => {
  it("a purge, an invalidation and a 304 update in one process reach another process's memory tier at once", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const { store } = await openTiered(dir);
    const peer = startPeer(dir);
    const key = 'http://shared/purged';
    const meta = await put(store, initFor(key), bodyFor(key, 5000));
    // the peer reads it once from disk, then from its memory tier
    assert.match(await peer.ask(`get ${key}`), /^disk /);
    assert.equal(await peer.ask(`get ${key}`), `mem "${key}" ${sha(bodyFor(key, 5000))}`);

    // 304 update here: the peer's very next lookup has the new headers
    await store.update({ ...meta, headers: [['content-type', 'text/plain'], ['etag', '"v2"']] });
    assert.match(await peer.ask(`get ${key}`), /^disk "v2" /, 'the update is seen by the next lookup, not served from the old memory copy');
    assert.match(await peer.ask(`get ${key}`), /^mem "v2" /);

    // purge here: the peer's next lookup is a miss
    await store.delete(key);
    assert.equal(await peer.ask(`get ${key}`), 'miss', 'purged entry not served from the memory tier');

    // invalidation by prefix, and a replacement by another body
    const a = 'http://shared/dir/a';
    await put(store, initFor(a), bodyFor(a, 3000));
    assert.match(await peer.ask(`get ${a}`), /^disk /);
    assert.match(await peer.ask(`get ${a}`), /^mem /);
    await store.deletePrefix('http://shared/dir/');
    assert.equal(await peer.ask(`get ${a}`), 'miss');
    await put(store, initFor(a), bodyFor('other body', 3000));
    assert.equal(await peer.ask(`get ${a}`), `disk "${a}" ${sha(bodyFor('other body', 3000))}`);

    // and the other way round: the peer's purge reaches this process's memory tier
    await peer.ask(`put http://shared/theirs 2000`);
    const [theirs] = await store.lookup('http://shared/theirs');
    assert.ok(theirs);
    await store.read(theirs); // promoted into memory here
    assert.ok(store.memory.has(theirs));
    await peer.ask(`put http://shared/theirs 2500`); // replaced there
    const [now] = await store.lookup('http://shared/theirs');
    assert.equal(now?.size, 2500, 'the replacement made in the peer is what this process sees');
  });

  it("a purge reaches another process's memory copy even after the disk evicted the entry", { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const { store, disk } = await openTiered(dir, 2 * MiB);
    const peer = startPeer(dir, 2 * MiB);
    const key = 'http://shared/evicted-then-purged';
    await put(store, initFor(key), bodyFor(key, 100_000));
    assert.match(await peer.ask(`get ${key}`), /^disk /);
    // evict it from disk (the peer's memory copy is still valid, and kept)
    for (let i = 0; i < 10; i++) await put(store, initFor(`http://shared/push${i}`), bodyFor(`push${i}`, 300_000));
    assert.equal((await disk.lookup(key)).length, 0, 'evicted from disk');
    assert.match(await peer.ask(`get ${key}`), /^mem /, 'an eviction does not flush other memory tiers');
    // the purge finds nothing on disk, and still reaches the peer's memory; so does a purge by prefix
    await store.delete(key);
    assert.equal(await peer.ask(`get ${key}`), 'miss');
    const under = 'http://shared/tree/leaf';
    await put(store, initFor(under), bodyFor(under, 100_000));
    assert.match(await peer.ask(`get ${under}`), /^disk /);
    for (let i = 0; i < 10; i++) await put(store, initFor(`http://shared/again${i}`), bodyFor(`again${i}`, 300_000));
    assert.match(await peer.ask(`get ${under}`), /^mem /);
    await store.deletePrefix('http://shared/tree/');
    assert.equal(await peer.ask(`get ${under}`), 'miss');
  });

  it('a writer is judged alive by its heartbeat, not by its pid: another container with the same pid keeps its chunks', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const { disk } = await openTiered(dir);
    const peer = startPeer(dir);
    const key = 'http://shared/in-progress';
    assert.equal(await peer.ask(`pending ${key} ${3 * MiB}`), 'pending');
    const token = await peer.ask('token');
    // make the peer look like PID 1 of another container: the same pid as ours, another pid namespace
    const procs = (disk as unknown as { db: { procs: { get(k: string): { hb: number }; putSync(k: string, v: unknown): void } } }).db.procs;
    const env = (disk as unknown as { env: { transactionSync(fn: () => void): void } }).env;
    env.transactionSync(() => procs.putSync(token, { pid: process.pid, hb: Date.now(), ns: 'pid:[4026530000]@another-container' }));
    await disk.maintain(); // the orphan collection every process runs
    assert.equal(await peer.ask('commit'), 'committed', 'the peer commits its body: its chunks were not collected');
    assert.match(await peer.ask(`get ${key}`), new RegExp(`^(disk|mem) "${key}" ${sha(bodyFor(key, 3 * MiB)).replace(/[+/]/g, '.')}$`));

    // the rules themselves
    const self = { pid: 1, ns: 'pid:[1]@boot' };
    const now = Date.now();
    assert.equal(procGone({ pid: 1, hb: now, ns: 'pid:[2]@boot' }, now, self), false, 'same pid, other namespace: alive');
    assert.equal(procGone({ pid: 1, hb: now, ns: self.ns }, now, self), true, 'our own pid under another token: a dead predecessor');
    assert.equal(procGone({ pid: 1, hb: now - 10 * 60_000, ns: 'pid:[2]@boot' }, now, self), true, 'no heartbeat for 10 min: gone');
    assert.equal(procGone({ pid: 7, hb: now }, now, self), false, 'record without a namespace: heartbeat only');
  });

  it('the byte budget is one property of the directory, and bodies in flight count against it', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const { store, disk } = await openTiered(dir, 8 * MiB);
    const peer = startPeer(dir, 2 * MiB); // the last process to open sets the budget for all
    await peer.ask('stats');
    assert.equal(disk.stats().budget, 2 * MiB, 'this process follows the budget set by the peer');
    for (let i = 0; i < 12; i++) await put(store, initFor(`http://shared/b${i}`), bodyFor(`b${i}`, 300_000));
    assert.ok(disk.stats().bytes <= 2 * MiB, `bytes ${disk.stats().bytes} within the shared 2 MiB budget`);
    assert.ok(disk.stats().evictions > 0);
    const theirs = JSON.parse(await peer.ask('stats')) as { bytes: number; objects: number };
    assert.equal(theirs.bytes, disk.stats().bytes, 'one account for both processes');

    // a fill in flight in the peer (not committed) counts: committed entries make room for it
    assert.equal(await peer.ask(`pending http://shared/big ${1536 * 1024}`), 'pending');
    const state = (disk as unknown as { db: { state: { get(k: string): number | undefined } } }).db.state;
    assert.equal(state.get('pending'), 1536 * 1024, 'the in-flight chunks are counted');
    await put(store, initFor('http://shared/after'), bodyFor('after', 300_000));
    assert.ok(disk.stats().bytes + state.get('pending')! <= 2 * MiB, 'committed + in flight within the budget');
    assert.equal(await peer.ask('commit'), 'committed');
    assert.equal(state.get('pending'), 0, 'committed chunks leave the in-flight count');

    // fills in flight beyond the budget give up storing
    assert.match(await peer.ask(`pending http://shared/huge ${3 * MiB}`), /^refused LARDER_ERR_STORE_FULL$/);
    assert.ok(disk.stats().bytes <= 2 * MiB);
  });

  it('the chunks of a body being streamed are not deleted under it by purge, replacement or eviction', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    const { store, disk } = await openTiered(dir, 6 * MiB);
    const peer = startPeer(dir, 6 * MiB);
    const key = 'http://shared/streamed';
    const body = bodyFor(key, 3 * MiB);
    await put(store, initFor(key), body);
    assert.match(await peer.ask(`hold ${key}`), /^held \d+$/);
    // purge it, replace it, and fill the budget so that eviction runs, all while the peer is mid-stream
    await store.delete(key);
    await put(store, initFor(key), bodyFor('replacement', 3 * MiB));
    for (let i = 0; i < 6; i++) await put(store, initFor(`http://shared/fill${i}`), bodyFor(`fill${i}`, MiB));
    assert.ok(disk.stats().evictions > 0, 'eviction ran meanwhile');
    assert.equal(await peer.ask('finish'), `done ${body.length} ${sha(body)}`, 'the stream got the whole original body');

    // the same in one process
    const k2 = 'http://shared/local';
    const b2 = bodyFor(k2, 2 * MiB);
    const meta = await put(store, initFor(k2), b2);
    const src = await disk.read(meta);
    assert.ok(src && !Buffer.isBuffer(src));
    await store.delete(k2);
    for (let i = 0; i < 6; i++) await put(store, initFor(`http://shared/more${i}`), bodyFor(`more${i}`, MiB));
    const parts: Buffer[] = [];
    for await (const c of src) parts.push(c as Buffer);
    assert.equal(sha(Buffer.concat(parts)), sha(b2));
  });
});
