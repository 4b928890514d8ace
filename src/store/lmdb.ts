/**
 * LmdbStore: the default persistent store, on the `lmdb` package (memory-mapped, ACID, multi-process).
 *
 * Layout of one environment (`<dir>/larder.mdb`), sub-databases:
 *   state    'version' | 'bytes' | 'objects' | 'evictions' | 'inflation' | 'procSeq'  → number
 *   meta     slot (key \x01 variant)  → Rec { m: EntryMeta, id, n: chunks, c: charged bytes, p: priority, f: hits }
 *   order    [priority, slot]         → 1            (eviction order: lowest first)
 *   chunks   [id, index]              → ≤ 256 KiB of body (binary)
 *   pending  id                       → token of the process writing it (large bodies being received)
 *   procs    token                    → { pid, hb }  (heartbeat, to tell orphans from live writers)
 *
 * Crash safety: a large body is written chunk by chunk under a fresh id registered in `pending`; the entry
 * becomes visible only in one transaction that checks the chunk lengths add up, then writes meta + order +
 * byte accounting and drops the pending mark. After kill -9, pending ids whose writer is gone are removed
 * at the next open (and periodically). The sha256 digest is checked on every whole-body read.
 * Budget: bytes/objects live in `state`, updated in the same transactions, so every process sharing the
 * directory sees one account; commit evicts (lowest priority first) until the new entry fits.
 *
 * Write path and durability: every write after open goes through lmdb's write thread. Chunk puts are async
 * puts; a commit (and update, delete, eviction, hit-count flush) is a nested, abortable child transaction
 * inside lmdb's next write batch. lmdb batches everything queued in one event turn — and everything queued
 * while the previous batch is being flushed — into one LMDB transaction: commits made close together share
 * one transaction and one fsync (group commit), and the JS thread never waits for the disk. A failed
 * check aborts only that entry's child transaction. The env keeps lmdb's default `overlappingSync`: a batch
 * is visible (and its promise resolves) once committed to the file, the fsync follows on the write thread.
 * A committed entry survives kill -9 (its pages are in the file, LMDB picks the newest meta while the boot
 * id is unchanged); after an OS crash or power loss the store reopens at the last flushed transaction,
 * consistent, losing at most the last unflushed commits. `noSync` would skip the fsync altogether (a lone
 * writer gets faster) but an OS crash could then leave a corrupt file, so it is not used.
 * `transactionSync` (open only) runs that fsync on the JS thread: ~1-2 ms of blocked event loop per commit.
 */
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import { CHUNK_SIZE, CONTIGUOUS_LIMIT, clampRange, digestOf, newDigest, sliceRange } from './body.js';
import { StoreError, StoreOpenError, corrupt, sizeMismatch, tooLarge, writerClosed } from './errors.js';
import { evictionPolicy, type EvictionName, type EvictionPolicy } from './eviction/policy.js';
import { headerBytes } from './memory.js';
import type { BodySource, ByteRange, EntryInit, EntryMeta, EntryWriter, Store, StoreStats } from './types.js';

/** Bump when the layout above changes; an old directory is then refused with StoreOpenError. */
export const STORE_FORMAT_VERSION = 1;
export const DB_FILE = 'larder.mdb';
/** Bytes charged per entry on top of body and header fields (meta record, order key, page slack). */
export const DISK_ENTRY_OVERHEAD = 1024;
const FLUSH_MS = 1000;
const MAINTENANCE_MS = 30_000;
/** A writer process whose heartbeat is older than this is presumed dead even if its pid is in use. */
const HEARTBEAT_STALE_MS = 5 * 60_000;
/** chunk puts (of CHUNK_SIZE bytes each) in flight per writer before write() makes the caller wait */
const MAX_INFLIGHT_PUTS = 4;
/**
 * transactionSync flags (open only): abortable (1), synchronous commit (2), MDB_NOSYNC for this txn (0x10000).
 * With overlappingSync MDB_NOSYNC does not skip the fsync, it moves it after the commit — but still in the
 * committing thread, which for transactionSync is the JS thread.
 */
const TXN_FLAGS = 1 | 2 | 0x10000;
const SEP = '\x01';
/** chunk buffers kept for reuse per store (8 MiB) */
const POOLED_CHUNKS = 32;

export interface LmdbStoreOptions {
  dir: string;
  budget: number;
  maxObjectSize: number;
  eviction?: EvictionName;
}

interface Rec {
  m: EntryMeta;
  id: number;
  n: number;
  c: number;
  p: number;
  f: number;
}

type OrderKey = [number, string];
type ChunkKey = [number, number];

export function slotKey(key: string, variant: string): string {
  return key + SEP + variant;
}

function openError(dir: string, what: string, cause?: unknown): StoreOpenError {
  return new StoreOpenError(dir, `cannot open the disk store in ${dir}: ${what}`, { cause });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** LMDB puts the magic 0xBEEFC0DE at byte 24 of both meta pages; refuse anything else before mapping it. */
function checkLmdbFile(dir: string, file: string): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw openError(dir, `${(err as Error).message}`, err);
  }
  if (size === 0) return;
  const head = Buffer.alloc(4096 + 32);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw openError(dir, `${DB_FILE} is not readable (${(err as NodeJS.ErrnoException).code}); fix its permissions or choose another --cache-dir`, err);
  }
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const magic = 0xbeefc0de;
  if (head.readUInt32LE(24) !== magic && head.readUInt32LE(4096 + 24) !== magic) {
    throw openError(dir, `${DB_FILE} is not an LMDB file (corrupt?); remove the directory or choose another --cache-dir`);
  }
}

function openEnv(dir: string, readOnly: boolean): RootDatabase {
  const file = join(dir, DB_FILE);
  checkLmdbFile(dir, file);
  try {
    return openLmdb({ path: file, maxDbs: 8, readOnly, compression: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw openError(dir, 'permission denied; fix the permissions or choose another --cache-dir', err);
    }
    throw openError(dir, `${(err as Error).message}; remove the directory or choose another --cache-dir`, err);
  }
}

interface Dbs {
  state: Database<number, string>;
  meta: Database<Rec, string>;
  order: Database<number, OrderKey>;
  chunks: Database<Buffer, ChunkKey>;
  pending: Database<string, number>;
  procs: Database<{ pid: number; hb: number }, string>;
}

function openDbs(env: RootDatabase): Dbs {
  return {
    state: env.openDB<number, string>({ name: 'state' }),
    meta: env.openDB<Rec, string>({ name: 'meta' }),
    order: env.openDB<number, OrderKey>({ name: 'order' }),
    chunks: env.openDB<Buffer, ChunkKey>({ name: 'chunks', encoding: 'binary' }),
    pending: env.openDB<string, number>({ name: 'pending' }),
    procs: env.openDB<{ pid: number; hb: number }, string>({ name: 'procs' }),
  };
}

/** Counters of a store directory, read without a running proxy (`larder stats`). */
export async function readStoreStats(dir: string): Promise<StoreStats> {
  try {
    accessSync(join(dir, DB_FILE), constants.R_OK);
  } catch (err) {
    throw openError(dir, `no readable store here (${(err as NodeJS.ErrnoException).code}); check --cache-dir`, err);
  }
  const env = openEnv(dir, true);
  try {
    const dbs = openDbs(env);
    const version = dbs.state.get('version');
    if (version !== STORE_FORMAT_VERSION) {
      throw openError(dir, `store format ${String(version)} is not ${STORE_FORMAT_VERSION}; remove the directory or choose another --cache-dir`);
    }
    return {
      tier: 'lmdb',
      objects: dbs.state.get('objects') ?? 0,
      bytes: dbs.state.get('bytes') ?? 0,
      budget: dbs.state.get('budget') ?? 0,
      evictions: dbs.state.get('evictions') ?? 0,
      hits: 0,
      misses: 0,
    };
  } finally {
    await env.close();
  }
}

export class LmdbStore implements Store {
  readonly tier = 'lmdb';
  readonly dir: string;
  readonly budget: number;
  readonly maxObjectSize: number;
  private readonly policy: EvictionPolicy;
  private readonly token = randomUUID();
  /** ids are procSeq × 2^32 + counter: unique across processes and restarts without a transaction */
  private procSeq = 0;
  private idCounter = 0;
  private readonly accessed = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private hits = 0;
  private misses = 0;
  private closed = false;

  private constructor(
    private readonly env: RootDatabase,
    private readonly db: Dbs,
    opts: LmdbStoreOptions,
  ) {
    this.dir = opts.dir;
    this.budget = opts.budget;
    this.maxObjectSize = opts.maxObjectSize;
    this.policy = evictionPolicy(opts.eviction ?? 'lru');
  }

  static async open(opts: LmdbStoreOptions): Promise<LmdbStore> {
    const dir = opts.dir;
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const what = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `${code ?? (err as Error).message}`;
      throw openError(dir, `${what}; fix the permissions or choose another --cache-dir`, err);
    }
    const env = openEnv(dir, false);
    let store: LmdbStore;
    try {
      const dbs = openDbs(env);
      store = new LmdbStore(env, dbs, opts);
      store.init();
      await store.maintain(); // orphans of a crashed writer go before this process writes
    } catch (err) {
      await env.close().catch(() => {});
      if (err instanceof StoreOpenError) throw err;
      throw openError(dir, `${(err as Error).message}; remove the directory or choose another --cache-dir`, err);
    }
    return store;
  }

  /** A synchronous transaction: blocks the event loop for its fsync; used only while opening. */
  private txnSync<T>(fn: () => T): T {
    return this.env.transactionSync(fn, TXN_FLAGS);
  }

  /**
   * Run fn in its own child transaction inside lmdb's next write batch (see the header): all-or-nothing for
   * this caller, one LMDB commit and one fsync shared with the other writes of the batch.
   * Resolves once the batch is committed (visible to every process).
   */
  private txn<T>(fn: () => T): Promise<T> {
    return this.env.childTransaction(fn);
  }

  /** A background transaction (maintenance, hit counts, corrupt entries): failures are not the caller's. */
  private txnBackground(fn: () => void): void {
    this.txn(fn).catch(() => {
      // store closing or disk error: the next open (or maintenance round) redoes this work
    });
  }

  private add(name: string, delta: number): number {
    const next = (this.db.state.get(name) ?? 0) + delta;
    this.db.state.putSync(name, next);
    return next;
  }

  private init(): void {
    const { state, meta } = this.db;
    this.txnSync(() => {
      const version = state.get('version');
      if (version === undefined) {
        if (meta.getKeysCount({ limit: 1 }) > 0) throw openError(this.dir, 'the store has no format version (corrupt?); remove the directory or choose another --cache-dir');
        state.putSync('version', STORE_FORMAT_VERSION);
      } else if (version !== STORE_FORMAT_VERSION) {
        throw openError(this.dir, `it holds store format ${version}, this larder reads format ${STORE_FORMAT_VERSION}; remove the directory or choose another --cache-dir`);
      }
      this.procSeq = this.add('procSeq', 1);
      state.putSync('budget', this.budget);
      this.db.procs.putSync(this.token, { pid: process.pid, hb: Date.now() });
    });
    this.timers.push(setInterval(() => this.flushAccess(), FLUSH_MS).unref());
    this.timers.push(setInterval(() => this.maintain().catch(() => {}), MAINTENANCE_MS).unref());
  }

  /** Heartbeat, orphan collection, eviction down to budget (after a budget cut or another process's writes). */
  async maintain(): Promise<void> {
    if (this.closed) return;
    const now = Date.now();
    const dead = new Set<string>();
    const { procs, pending, chunks } = this.db;
    await this.txn(() => {
      procs.putSync(this.token, { pid: process.pid, hb: now });
      for (const { key, value } of procs.getRange()) {
        if (key === this.token) continue;
        const gone = value.pid === process.pid || !pidAlive(value.pid) || now - value.hb > HEARTBEAT_STALE_MS;
        if (gone) dead.add(key);
      }
      for (const { key: id, value: owner } of pending.getRange()) {
        if (owner === this.token || procs.get(owner) !== undefined && !dead.has(owner)) continue;
        for (const ck of chunks.getKeys({ start: [id, 0], end: [id + 1, 0] })) chunks.removeSync(ck);
        pending.removeSync(id);
      }
      for (const token of dead) procs.removeSync(token);
      this.evictTo(this.budget, undefined);
    });
  }

  private nextId(): number {
    return this.procSeq * 0x1_0000_0000 + ++this.idCounter;
  }

  lookup(key: string): Promise<EntryMeta[]> {
    const out: EntryMeta[] = [];
    for (const { value } of this.db.meta.getRange({ start: key + SEP, end: key + '\x02' })) out.push(value.m);
    if (out.length === 0) this.misses++;
    else this.hits++;
    return Promise.resolve(out);
  }

  private current(meta: EntryMeta): Rec | undefined {
    const rec = this.db.meta.get(slotKey(meta.key, meta.variant));
    return rec !== undefined && rec.m.digest === meta.digest && rec.m.size === meta.size ? rec : undefined;
  }

  async read(meta: EntryMeta, range?: ByteRange): Promise<BodySource | undefined> {
    const rec = this.current(meta);
    if (rec === undefined) return undefined;
    const slot = slotKey(meta.key, meta.variant);
    this.accessed.set(slot, (this.accessed.get(slot) ?? 0) + 1);
    if (rec.m.size <= CONTIGUOUS_LIMIT) {
      const parts: Buffer[] = [];
      for (let i = 0; i < rec.n; i++) {
        const c = this.db.chunks.get([rec.id, i]);
        if (c === undefined) return undefined; // removed since the meta read
        parts.push(c);
      }
      const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (body.length !== rec.m.size || digestOf(body) !== rec.m.digest) {
        this.dropCorrupt(slot, rec.id);
        return undefined;
      }
      return sliceRange(body, range);
    }
    const r = clampRange(range, rec.m.size);
    if (r === undefined) return Buffer.alloc(0);
    const whole = r.start === 0 && r.end === rec.m.size - 1;
    return this.stream(slot, rec, r, whole);
  }

  /** Stream chunks from disk one at a time; a whole-body read checks the digest at the end. */
  private stream(slot: string, rec: Rec, r: ByteRange, verify: boolean): Readable {
    let index = Math.floor(r.start / CHUNK_SIZE);
    let offset = r.start - index * CHUNK_SIZE;
    let left = r.end - r.start + 1;
    const hash = verify ? newDigest() : undefined;
    const key = rec.m.key;
    const stream: Readable = new Readable({
      highWaterMark: CHUNK_SIZE,
      read: () => {
        if (left === 0) {
          if (hash !== undefined && hash.digest('base64') !== rec.m.digest) {
            this.dropCorrupt(slot, rec.id);
            return void stream.destroy(corrupt(key));
          }
          return void stream.push(null);
        }
        const chunk = this.db.chunks.get([rec.id, index]);
        if (chunk === undefined || chunk.length <= offset) {
          return void stream.destroy(new StoreError('LARDER_ERR_STORE_CORRUPT', `stored body of ${key} vanished while being read`));
        }
        const view = chunk.subarray(offset, Math.min(chunk.length, offset + left));
        hash?.update(view);
        left -= view.length;
        offset = 0;
        index++;
        stream.push(view);
      },
    });
    return stream;
  }

  private dropCorrupt(slot: string, id: number): void {
    if (this.closed) return;
    this.txnBackground(() => {
      const rec = this.db.meta.get(slot);
      if (rec !== undefined && rec.id === id) this.removeRec(slot, rec);
    });
  }

  write(init: EntryInit): EntryWriter {
    return new LmdbWriter(this, init);
  }

  /** @internal writer: a fresh body id */
  allocId(): number {
    return this.nextId();
  }

  /** @internal writer: mark an id as being written (before its first chunk) */
  markPending(id: number): Promise<boolean> {
    return this.db.pending.put(id, this.token);
  }

  /** @internal writer: store one full chunk */
  putChunk(id: number, index: number, chunk: Buffer): Promise<boolean> {
    return this.db.chunks.put([id, index], chunk);
  }

  /** @internal writer: forget an aborted body */
  discard(id: number, count: number): void {
    if (this.closed) return;
    this.txnBackground(() => {
      for (let i = 0; i < count; i++) this.db.chunks.removeSync([id, i]);
      this.db.pending.removeSync(id);
    });
  }

  /**
   * @internal writer: make an entry visible (one child transaction). `last` is the final partial chunk, if
   * any. The chunk puts queued before this call run before it (lmdb keeps the order of queued writes), so
   * the length check inside sees them; a missing chunk fails the check and aborts this entry only.
   */
  commitEntry(meta: EntryMeta, id: number, written: number, last: Buffer | undefined): Promise<void> {
    const slot = slotKey(meta.key, meta.variant);
    const charge = meta.size + headerBytes(meta) + DISK_ENTRY_OVERHEAD;
    if (charge > this.budget) return Promise.reject(tooLarge(meta.key, this.budget));
    if (this.closed) return Promise.reject(writerClosed(meta.key));
    const { chunks, meta: metaDb, order, pending, state } = this.db;
    return this.txn(() => {
      const n = written + (last ? 1 : 0);
      if (last) chunks.putSync([id, written], last);
      let total = 0;
      for (let i = 0; i < n; i++) total += chunks.getBinaryFast([id, i])?.length ?? 0;
      if (total !== meta.size) throw sizeMismatch(meta.key, meta.size, total);
      const old = metaDb.get(slot);
      if (old !== undefined) this.removeRec(slot, old);
      const inflation = state.get('inflation') ?? 0;
      const p = this.policy.priority({ size: charge, frequency: 1, now: Date.now() }, inflation);
      metaDb.putSync(slot, { m: meta, id, n, c: charge, p, f: 1 });
      order.putSync([p, slot], 1);
      if (written > 0) pending.removeSync(id);
      this.add('bytes', charge);
      this.add('objects', 1);
      this.evictTo(this.budget, slot);
    });
  }

  /** In a transaction: evict lowest-priority entries until bytes <= target. */
  private evictTo(target: number, keep: string | undefined): void {
    const { state, order, meta } = this.db;
    let bytes = state.get('bytes') ?? 0;
    if (bytes <= target) return;
    let inflation = state.get('inflation') ?? 0;
    let evicted = 0;
    const victims: OrderKey[] = [];
    for (const k of order.getKeys({ snapshot: false })) {
      if (bytes <= target) break;
      if (k[1] === keep) continue;
      const rec = meta.get(k[1]);
      if (rec === undefined) continue;
      victims.push(k);
      bytes -= rec.c;
    }
    for (const [p, slot] of victims) {
      const rec = meta.get(slot);
      if (rec === undefined) continue;
      this.removeRec(slot, rec);
      inflation = this.policy.inflationAfterEvict(inflation, p);
      evicted++;
    }
    if (evicted > 0) {
      state.putSync('inflation', inflation);
      this.add('evictions', evicted);
    }
  }

  /** In a transaction: remove one entry with its chunks and accounting. */
  private removeRec(slot: string, rec: Rec): void {
    this.db.meta.removeSync(slot);
    this.db.order.removeSync([rec.p, slot]);
    for (let i = 0; i < rec.n; i++) this.db.chunks.removeSync([rec.id, i]);
    this.add('bytes', -rec.c);
    this.add('objects', -1);
  }

  /** Write the batched hit counts: one transaction per second, not one per hit. */
  flushAccess(): void {
    if (this.accessed.size === 0 || this.closed) return;
    const batch = [...this.accessed];
    this.accessed.clear();
    const { meta, order, state } = this.db;
    const now = Date.now();
    this.txnBackground(() => {
      const inflation = state.get('inflation') ?? 0;
      for (const [slot, hits] of batch) {
        const rec = meta.get(slot);
        if (rec === undefined) continue;
        const f = rec.f + hits;
        const p = this.policy.priority({ size: rec.c, frequency: f, now }, inflation);
        order.removeSync([rec.p, slot]);
        order.putSync([p, slot], 1);
        meta.putSync(slot, { ...rec, p, f });
      }
    });
  }

  async update(meta: EntryMeta): Promise<void> {
    const slot = slotKey(meta.key, meta.variant);
    await this.txn(() => {
      const rec = this.db.meta.get(slot);
      if (rec === undefined || rec.m.digest !== meta.digest || rec.m.size !== meta.size) return;
      const m: EntryMeta = { ...meta, size: rec.m.size, digest: rec.m.digest };
      const c = m.size + headerBytes(m) + DISK_ENTRY_OVERHEAD;
      this.db.meta.putSync(slot, { ...rec, m, c });
      this.add('bytes', c - rec.c);
    });
  }

  private async removeSlots(slots: string[]): Promise<number> {
    if (slots.length === 0) return 0;
    return this.txn(() => {
      let n = 0;
      for (const slot of slots) {
        const rec = this.db.meta.get(slot);
        if (rec === undefined) continue;
        this.removeRec(slot, rec);
        n++;
      }
      return n;
    });
  }

  async delete(key: string, variant?: string): Promise<number> {
    const slots = variant !== undefined ? [slotKey(key, variant)] : [...this.db.meta.getKeys({ start: key + SEP, end: key + '\x02' })];
    return this.removeSlots(slots);
  }

  async deletePrefix(prefix: string): Promise<number> {
    const slots: string[] = [];
    for (const slot of this.db.meta.getKeys({ start: prefix })) {
      if (!slot.startsWith(prefix)) break;
      slots.push(slot);
    }
    return this.removeSlots(slots);
  }

  stats(): StoreStats {
    const { state } = this.db;
    return {
      tier: this.tier,
      objects: state.get('objects') ?? 0,
      bytes: state.get('bytes') ?? 0,
      budget: this.budget,
      evictions: state.get('evictions') ?? 0,
      hits: this.hits,
      misses: this.misses,
    };
  }

  tierStats(): StoreStats[] {
    return [this.stats()];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushAccess();
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    try {
      await this.txn(() => this.db.procs.removeSync(this.token));
    } catch {
      // closing anyway
    }
    await this.env.close();
  }
}

/**
 * Reusable CHUNK_SIZE buffers. A fresh 256 KiB buffer is an mmap plus 64 page faults (~0.8 ms here, more
 * than hashing it); reusing them roughly halves the cost of writing a large body. A buffer comes back only
 * once lmdb is done with it (its put resolved, or the commit holding it settled).
 */
class ChunkPool {
  private readonly free: Buffer[] = [];

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
  }

  give(buf: Buffer): void {
    if (this.free.length < POOLED_CHUNKS) this.free.push(buf);
  }
}

const chunkPool = new ChunkPool();

class LmdbWriter implements EntryWriter {
  /** the chunk being filled, and how much of it is */
  private current: Buffer | undefined;
  private used = 0;
  private readonly hash = newDigest();
  private size = 0;
  private id = 0;
  private written = 0;
  private inflight: Promise<boolean>[] = [];
  /** chunk puts among `inflight` (the pending mark is not one: it holds no body memory) */
  private inflightChunks = 0;
  private done = false;
  private failed: StoreError | undefined;

  constructor(
    private readonly store: LmdbStore,
    private readonly init: EntryInit,
  ) {}

  write(chunk: Buffer): void | Promise<void> {
    if (this.done) {
      if (this.failed) return;
      return Promise.reject(writerClosed(this.init.key));
    }
    this.size += chunk.length;
    if (this.size > this.store.maxObjectSize || (this.init.expectedSize !== undefined && this.size > this.init.expectedSize)) {
      this.failed = this.size > this.store.maxObjectSize ? tooLarge(this.init.key, this.store.maxObjectSize) : sizeMismatch(this.init.key, this.init.expectedSize!, this.size);
      this.abort();
      return Promise.reject(this.failed);
    }
    this.hash.update(chunk);
    const full = this.fill(chunk);
    if (full.length === 0) return;
    if (this.id === 0) {
      this.id = this.store.allocId();
      this.inflight.push(this.store.markPending(this.id));
    }
    for (const c of full) {
      const put = this.store.putChunk(this.id, this.written++, c);
      put.then(() => chunkPool.give(c), () => {}); // a failed put's buffer is not reused
      this.inflight.push(put);
      this.inflightChunks++;
    }
    if (this.inflightChunks > MAX_INFLIGHT_PUTS) {
      const wait = this.inflight;
      this.inflight = [];
      this.inflightChunks = 0;
      return Promise.all(wait).then(() => undefined);
    }
  }

  async commit(): Promise<EntryMeta> {
    if (this.done) throw this.failed ?? writerClosed(this.init.key);
    this.done = true;
    const { expectedSize, ...init } = this.init;
    try {
      if (expectedSize !== undefined && expectedSize !== this.size) throw sizeMismatch(init.key, expectedSize, this.size);
      if (this.id === 0) this.id = this.store.allocId();
      const meta: EntryMeta = { ...init, size: this.size, digest: this.hash.digest('base64') };
      // Queued behind the chunk puts still in flight, not after them: puts and commit usually land in one
      // lmdb batch (one transaction, one fsync) instead of two.
      const last = this.current;
      this.current = undefined;
      const committed = this.store.commitEntry(meta, this.id, this.written, last?.subarray(0, this.used));
      if (last !== undefined) committed.then(() => chunkPool.give(last), () => chunkPool.give(last));
      const [commitResult, ...puts] = await Promise.allSettled([committed, ...this.inflight]);
      this.inflight = [];
      // The commit's length check passed only if every chunk was there, so a committed entry is whole.
      if (commitResult!.status === 'fulfilled') return meta;
      const putFailure = puts.find((r) => r.status === 'rejected');
      throw putFailure !== undefined ? putFailure.reason : commitResult!.reason;
    } catch (err) {
      this.cleanup();
      throw err;
    }
  }

  abort(): void {
    if (this.done && this.failed === undefined) return;
    this.done = true;
    this.cleanup();
  }

  /** Copy bytes into pooled chunk buffers; returns the chunks that became full. */
  private fill(data: Buffer): Buffer[] {
    const full: Buffer[] = [];
    let pos = 0;
    while (pos < data.length) {
      const current = (this.current ??= chunkPool.take());
      const n = Math.min(CHUNK_SIZE - this.used, data.length - pos);
      data.copy(current, this.used, pos, pos + n);
      this.used += n;
      pos += n;
      if (this.used === CHUNK_SIZE) {
        full.push(current);
        this.current = undefined;
        this.used = 0;
      }
    }
    return full;
  }

  private cleanup(): void {
    if (this.current !== undefined) chunkPool.give(this.current); // never handed to lmdb
    this.current = undefined;
    if (this.written === 0) return;
    const { id, written } = this;
    this.written = 0;
    void Promise.allSettled(this.inflight).then(() => {
      try {
        this.store.discard(id, written);
      } catch {
        // store closed: the pending mark lets the next open collect these chunks
      }
    });
    this.inflight = [];
  }
}
