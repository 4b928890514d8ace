/**
 * LmdbStore: the default persistent store, on the `lmdb` package (memory-mapped, ACID, multi-process).
 *
 * Layout of one environment (`<dir>/larder.mdb`), sub-databases:
 *   state    'version' | 'bytes' | 'objects' | 'evictions' | 'inflation' | 'procSeq'  → number
 *   meta     slot (key \x05 variant)  → Rec { m: EntryMeta, id, n: chunks, c: charged bytes, p: priority, f: hits }
 *   order    [priority, slot]         → 1            (eviction order: lowest first)
 *   chunks   [id, index]              → ≤ 256 KiB of body (binary)
 *   pending  id                       → token of the process writing it (large bodies being received)
 *   procs    token                    → { pid, hb, ns }  (heartbeat + pid namespace, to tell orphans from live writers)
 *   changes  seq                      → origin \x01 key  (the change log: the last CHANGE_LOG_MAX changes)
 *
 * Several processes (workers, containers) on one directory:
 * - Every transaction that replaces or updates an entry, or purges a key or prefix (whether or not the disk
 *   still held it), bumps `state.gen` and appends the key to `changes`. Evictions are not logged: an
 *   evicted entry is still valid, so another process's memory copy of it may stay. A memory tier in front (TieredStore) reads `gen` before it trusts a memory hit — one LMDB read
 *   on a fresh read snapshot — and drops the keys changed since it last looked (all of memory when the
 *   bounded log has moved past it). No IPC and no polling: a purge committed in one process is seen by the
 *   next lookup in any other.
 * - A writer's liveness is its heartbeat in `procs`, under a random token. The pid is consulted only for a
 *   record from the same pid namespace on the same boot (two containers that are both PID 1 never judge
 *   each other by pid).
 * - The byte budget is `state.budget` (the last process to open sets it; all evict against it), and bytes
 *   of bodies still being received (`state.pending`) count against it as well.
 * - A large body being streamed holds an LMDB read snapshot (bounded in count and time, see PIN_*): an
 *   eviction, replacement or purge meanwhile does not pull the chunks from under it.
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
import { accessSync, constants, mkdirSync, openSync, readFileSync, readSync, readlinkSync, closeSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb';
import { CHUNK_SIZE, CONTIGUOUS_LIMIT, clampRange, digestOf, newDigest, sliceRange } from './body.js';
import { StoreError, StoreOpenError, corrupt, keyTooLong, sizeMismatch, storeFull, tooLarge, writerClosed } from './errors.js';
import { evictionPolicy } from './eviction/policy.js';
import type { EvictionName, EvictionPolicy } from './eviction/types.js';
import { headerBytes } from './memory.js';
import type { BodySource, ByteRange, EntryInit, EntryMeta, EntryWriter, Store, StoreStats } from './types.js';

/** Bump when the layout above changes; an old directory is then refused with StoreOpenError (or cleared, below). */
export const STORE_FORMAT_VERSION = 2;
/** An older layout of the same data: its entries are dropped at open (it is a cache), not refused. */
const CLEARED_FORMATS = new Set([1]);
export const DB_FILE = 'larder.mdb';
/** Bytes charged per entry on top of body and header fields (meta record, order key, page slack). */
export const DISK_ENTRY_OVERHEAD = 1024;
const FLUSH_MS = 1000;
const MAINTENANCE_MS = 30_000;
/** A writer process whose heartbeat is older than this is presumed dead even if its pid is in use. */
const HEARTBEAT_STALE_MS = 5 * 60_000;
/** Entries kept in the change log; a reader further behind than this drops its whole memory tier. */
export const CHANGE_LOG_MAX = 8192;
/**
 * Longest slot (key + variant) stored, in UTF-8 bytes. LMDB's key limit is 1978 bytes; the order index key
 * is [priority, slot], a few bytes more than the slot.
 */
export const MAX_SLOT_BYTES = 1900;
/** After a failed write (disk full, map full, I/O error) new entries are refused for this long. */
const FULL_BACKOFF_MS = 5_000;
/** Streams of large bodies holding a read snapshot, per process; further streams read the live chunks. */
const PIN_MAX_STREAMS = 48;
/** A snapshot is held at most this long (pages freed meanwhile cannot be reused: the file would grow). */
export const PIN_MAX_MS = 60_000;
/** LMDB reader slots (one per snapshot generation per process; the default 126 is too few for workers). */
const MAX_READERS = 1024;
/** chunk puts (of CHUNK_SIZE bytes each) in flight per writer before write() makes the caller wait */
const MAX_INFLIGHT_PUTS = 4;
/**
 * transactionSync flags (open only): abortable (1), synchronous commit (2), MDB_NOSYNC for this txn (0x10000).
 * With overlappingSync MDB_NOSYNC does not skip the fsync, it moves it after the commit — but still in the
 * committing thread, which for transactionSync is the JS thread.
 */
const TXN_FLAGS = 1 | 2 | 0x10000;
/**
 * Between key and variant in a slot. Not a byte below 5: lmdb's key encoding (ordered-binary) escapes bytes 0-4
 * in strings shorter than 64 chars and writes longer strings raw, where such a byte ends the string on decode
 * (format 1 used '\x01': getKeys() gave a URL of 63+ chars back without it, so delete() found the slot but
 * removed nothing, and eviction skipped those entries). URIs hold no control characters (URL percent-encodes
 * them) and variant ids are base64url, so SEP never occurs inside either.
 */
const SEP = '\x05';
/** Just above SEP: the end of a key's slot range. */
const SEP_END = '\x06';
/** separates origin and prefix in a change-log entry (a value, not a key) for a purge by prefix */
const PREFIX_SEP = '\x02';
/** chunk buffers kept for reuse per store (8 MiB) */
const POOLED_CHUNKS = 32;

export interface LmdbStoreOptions {
  dir: string;
  budget: number;
  maxObjectSize: number;
  eviction?: EvictionName;
  /** told once per episode when the disk stops taking entries (full disk, map full, I/O error) */
  onWriteError?: (message: string, err: unknown) => void;
}

/** Counters of refusals, beyond StoreStats (additive: StoreStats stays as it was). */
export interface LmdbRefusals {
  /** entries refused while the disk was full (or after a failed write) */
  full: number;
  /** writes that failed on the disk (ENOSPC, EIO, MDB_MAP_FULL) */
  writeErrors: number;
  /** entries refused: the key was longer than MAX_SLOT_BYTES */
  keyTooLong: number;
  /** fills refused: the bytes in flight would not fit the budget */
  budget: number;
  /** corrupt metadata records removed */
  corrupt: number;
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
/** lmdb's read transaction object, as used for a pinned snapshot */
interface PinnedTxn {
  done(): void;
}
type ChunkKey = [number, number];

export function slotKey(key: string, variant: string): string {
  return key + SEP + variant;
}

function openError(dir: string, what: string, cause?: unknown): StoreOpenError {
  return new StoreOpenError(dir, `cannot open the disk store in ${dir}: ${what}`, { cause });
}

/** The pid namespace and boot this process runs in: a pid means something only inside the same one. */
function pidNamespace(): string {
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    ns = `host:${hostname()}`;
  }
  try {
    ns += '@' + readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // no boot id (not Linux): the namespace (or host name) alone
  }
  return ns;
}

const PID_NS = pidNamespace();

interface ProcRec {
  pid: number;
  hb: number;
  /** pid namespace + boot id (absent in records of older versions: judged by heartbeat only) */
  ns?: string;
}

/** Whether another process's record in `procs` belongs to a writer that is gone. */
export function procGone(rec: ProcRec, now: number, self: { pid: number; ns: string }): boolean {
  if (!(now - rec.hb <= HEARTBEAT_STALE_MS)) return true; // no heartbeat for long (or a corrupt record)
  if (rec.ns !== self.ns) return false; // another container or host: its pid means nothing here
  if (rec.pid === self.pid) return true; // our pid, another token: a previous process that died
  return !pidAlive(rec.pid);
}

function validRec(r: unknown): r is Rec {
  if (typeof r !== 'object' || r === null) return false;
  const rec = r as Rec;
  return (
    typeof rec.m === 'object' && rec.m !== null && typeof rec.m.key === 'string' && typeof rec.m.digest === 'string' &&
    Number.isFinite(rec.m.size) && Array.isArray(rec.m.headers) && Number.isFinite(rec.id) && Number.isInteger(rec.n) &&
    Number.isFinite(rec.c) && Number.isFinite(rec.p)
  );
}

/** Failures that mean the disk takes no more: full disk, full map, I/O error. */
function isDiskFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; commitError?: unknown } | undefined;
  if (e === undefined || e === null) return false;
  if (e.code === 'ENOSPC' || e.code === 'EIO' || e.code === 28 || e.code === 5 || e.code === -30792) return true;
  return typeof e.message === 'string' && /MDB_MAP_FULL|No space left|Commit failed|Input\/output error/i.test(e.message);
}

/**
 * lmdb hangs a rejected promise (`commitError`) on the error of a failed batch; left alone it is an
 * unhandled rejection, which ends the process. Every write error of this store goes through here.
 */
function settleCommitError(err: unknown): void {
  const p = (err as { commitError?: { catch?: (f: () => void) => unknown } } | undefined)?.commitError;
  if (p && typeof p.catch === 'function') p.catch(() => {});
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
    return openLmdb({ path: file, maxDbs: 8, readOnly, compression: false, maxReaders: MAX_READERS });
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
  procs: Database<ProcRec, string>;
  changes: Database<string, number>;
}

function openDbs(env: RootDatabase): Dbs {
  return {
    state: env.openDB<number, string>({ name: 'state' }),
    meta: env.openDB<Rec, string>({ name: 'meta' }),
    order: env.openDB<number, OrderKey>({ name: 'order' }),
    chunks: env.openDB<Buffer, ChunkKey>({ name: 'chunks', encoding: 'binary' }),
    pending: env.openDB<string, number>({ name: 'pending' }),
    procs: env.openDB<ProcRec, string>({ name: 'procs' }),
    changes: env.openDB<string, number>({ name: 'changes' }),
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
    // only `state`: a directory written by an older larder may lack the newer sub-databases
    const dbs = { state: env.openDB<number, string>({ name: 'state' }) };
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
  /** no new entries before this time (ms): the disk failed a write */
  private fullUntil = 0;
  private readonly onWriteError: ((message: string, err: unknown) => void) | undefined;
  readonly refusals: LmdbRefusals = { full: 0, writeErrors: 0, keyTooLong: 0, budget: 0, corrupt: 0 };
  /** streams holding a read snapshot now */
  private pinned = 0;
  /** depth of transaction callbacks running now (a corrupt record found inside one is removed in it) */
  private inTxn = 0;

  private constructor(
    private readonly env: RootDatabase,
    private readonly db: Dbs,
    opts: LmdbStoreOptions,
  ) {
    this.dir = opts.dir;
    this.budget = opts.budget;
    this.maxObjectSize = opts.maxObjectSize;
    this.policy = evictionPolicy(opts.eviction ?? 'lru');
    this.onWriteError = opts.onWriteError;
    // lmdb makes one promise of its own per write batch (the batch start) and nobody waits on it: when the
    // batch fails (disk full, I/O error) it is an unhandled rejection, which ends the process. Attach a
    // handler to it as each batch starts (the beforecommit callbacks run just before it is created).
    const committed = (env as unknown as { committed: PromiseLike<unknown> }).committed;
    (env as unknown as { on(event: string, cb: () => void): void }).on('beforecommit', () => {
      queueMicrotask(() => {
        committed.then(undefined, settleCommitError);
      });
    });
  }

  /** Identifies this open store in the change log (unique across processes and restarts). */
  get origin(): number {
    return this.procSeq;
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
    return this.env.transactionSync(() => this.inside(fn), TXN_FLAGS);
  }

  /**
   * Run fn in its own child transaction inside lmdb's next write batch (see the header): all-or-nothing for
   * this caller, one LMDB commit and one fsync shared with the other writes of the batch.
   * Resolves once the batch is committed (visible to every process).
   */
  private txn<T>(fn: () => T): Promise<T> {
    return this.guard(this.env.childTransaction(() => this.inside(fn)));
  }

  private inside<T>(fn: () => T): T {
    this.inTxn++;
    try {
      return fn();
    } finally {
      this.inTxn--;
    }
  }

  /** Every write promise of lmdb passes here: a disk failure is settled, counted, and stops new entries. */
  private guard<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      settleCommitError(err);
      if (isDiskFull(err)) this.noteWriteError(err);
      throw err;
    });
  }

  private noteWriteError(err: unknown): void {
    this.refusals.writeErrors++;
    const now = Date.now();
    const wasFull = now < this.fullUntil;
    this.fullUntil = now + FULL_BACKOFF_MS;
    if (!wasFull) {
      const why = (err as Error)?.message ?? String(err);
      this.onWriteError?.(`disk store in ${this.dir} failed a write (${why}); new entries are refused for ${FULL_BACKOFF_MS / 1000} s, cached entries are still served`, err);
    }
  }

  /** True while new entries are refused after a failed write. */
  get full(): boolean {
    return Date.now() < this.fullUntil;
  }

  /** The byte budget of the directory: one value for every process sharing it. */
  private sharedBudget(): number {
    return this.db.state.get('budget') ?? this.budget;
  }

  /**
   * In a transaction: record that `key` changed (for the memory tiers of every process), or with
   * `prefix`, that every key under it was purged. Evictions are not logged: an evicted entry is still
   * valid, and a memory tier may go on serving it. A purge is logged whether or not the disk still held it.
   */
  private logChange(key: string, prefix = false): void {
    const seq = this.add('gen', 1);
    this.db.changes.putSync(seq, this.procSeq + (prefix ? PREFIX_SEP : SEP) + key);
    if (seq > CHANGE_LOG_MAX) this.db.changes.removeSync(seq - CHANGE_LOG_MAX);
  }

  /**
   * The change generation, read on a fresh snapshot (lmdb otherwise reuses one read snapshot for the
   * rest of the event turn): what a memory tier checks before trusting a hit.
   */
  generation(): number {
    this.env.resetReadTxn();
    return this.db.state.get('gen') ?? 0;
  }

  /**
   * Changes after generation `from` up to `to`: [origin, key, whether key is a purged prefix]; undefined
   * when the log no longer reaches back.
   */
  changesSince(from: number, to: number): [number, string, boolean][] | undefined {
    if (to - from > CHANGE_LOG_MAX - 1) return undefined;
    const out: [number, string, boolean][] = [];
    for (const { key: seq, value } of this.db.changes.getRange({ start: from + 1, end: to + 1 })) {
      if (typeof value !== 'string') return undefined;
      const at = value.search(/[\x02\x05]/);
      if (at < 0) return undefined;
      out.push([Number(value.slice(0, at)), value.slice(at + 1), value[at] === PREFIX_SEP]);
      if (seq > to) break;
    }
    // entries missing (trimmed meanwhile by a busy writer): the caller starts over
    return out.length === to - from ? out : undefined;
  }

  /** Whether exactly this entry (same body) is committed now. */
  holds(meta: EntryMeta): boolean {
    return this.current(meta) !== undefined;
  }

  /** A meta record, or undefined when absent; a record that does not decode or has the wrong shape is removed. */
  private safeRec(slot: string): Rec | undefined {
    let rec: unknown;
    try {
      rec = this.db.meta.get(slot);
    } catch {
      rec = null;
    }
    if (rec === undefined) return undefined;
    if (validRec(rec)) return rec;
    this.dropCorruptSlot(slot);
    return undefined;
  }

  private dropCorruptSlot(slot: string, orderKey?: OrderKey): void {
    this.refusals.corrupt++;
    if (this.closed) return;
    const remove = () => {
      this.db.meta.removeSync(slot);
      if (orderKey) this.db.order.removeSync(orderKey);
      this.logChange(slot.slice(0, slot.indexOf(SEP)));
    };
    if (this.inTxn > 0) remove(); // inside eviction: now, in the same transaction
    else this.txnBackground(remove);
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
      } else if (CLEARED_FORMATS.has(version)) {
        for (const db of [meta, this.db.order, this.db.chunks, this.db.pending, this.db.procs, state]) db.clearSync();
        state.putSync('version', STORE_FORMAT_VERSION);
      } else if (version !== STORE_FORMAT_VERSION) {
        throw openError(this.dir, `it holds store format ${version}, this larder reads format ${STORE_FORMAT_VERSION}; remove the directory or choose another --cache-dir`);
      }
      this.procSeq = this.add('procSeq', 1);
      state.putSync('budget', this.budget);
      this.db.procs.putSync(this.token, { pid: process.pid, hb: Date.now(), ns: PID_NS });
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
      procs.putSync(this.token, { pid: process.pid, hb: now, ns: PID_NS });
      const self = { pid: process.pid, ns: PID_NS };
      for (const { key, value } of procs.getRange()) {
        if (key === this.token) continue;
        if (typeof value !== 'object' || value === null || procGone(value, now, self)) dead.add(key);
      }
      for (const { key: id, value: owner } of pending.getRange()) {
        if (owner === this.token || procs.get(owner) !== undefined && !dead.has(owner)) continue;
        let freed = 0;
        for (const ck of chunks.getKeys({ start: [id, 0], end: [id + 1, 0] })) {
          freed += chunks.getBinaryFast(ck)?.length ?? 0;
          chunks.removeSync(ck);
        }
        pending.removeSync(id);
        this.addPending(-freed);
      }
      for (const token of dead) procs.removeSync(token);
      this.evictTo(this.sharedBudget() - (this.db.state.get('pending') ?? 0), undefined);
    });
  }

  private nextId(): number {
    return this.procSeq * 0x1_0000_0000 + ++this.idCounter;
  }

  /** In a transaction: move the count of body bytes being received (never below 0). */
  private addPending(delta: number): number {
    const next = Math.max(0, (this.db.state.get('pending') ?? 0) + delta);
    this.db.state.putSync('pending', next);
    return next;
  }

  lookup(key: string): Promise<EntryMeta[]> {
    const out: EntryMeta[] = [];
    if (Buffer.byteLength(key) + 1 > MAX_SLOT_BYTES) {
      this.misses++;
      return Promise.resolve(out); // never stored (see write)
    }
    try {
      for (const { value } of this.db.meta.getRange({ start: key + SEP, end: key + SEP_END })) {
        if (!validRec(value)) throw new Error('corrupt');
        out.push(value.m);
      }
    } catch {
      // a record that does not decode: read the variants one by one, dropping the bad ones
      out.length = 0;
      for (const slot of [...this.db.meta.getKeys({ start: key + SEP, end: key + SEP_END })]) {
        const rec = this.safeRec(slot);
        if (rec !== undefined) out.push(rec.m);
      }
    }
    if (out.length === 0) this.misses++;
    else this.hits++;
    return Promise.resolve(out);
  }

  private current(meta: EntryMeta): Rec | undefined {
    const rec = this.safeRec(slotKey(meta.key, meta.variant));
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
    // Hold a read snapshot for the stream: chunks removed meanwhile (eviction, replacement, purge, in this
    // or another process) stay readable under it. Bounded: PIN_MAX_STREAMS at once, PIN_MAX_MS each;
    // past either the stream reads the live chunks (and ends with an error if its body is gone).
    let txn = this.pin(slot, rec.id);
    const pinnedAt = Date.now();
    // a stream nobody reads (and nobody destroys) must not hold its snapshot for ever either
    const expiry = txn !== undefined ? setTimeout(() => release(), PIN_MAX_MS).unref() : undefined;
    const release = () => {
      if (txn === undefined) return;
      const t = txn;
      txn = undefined;
      clearTimeout(expiry);
      this.pinned--;
      try {
        t.done();
      } catch {
        // store closed meanwhile
      }
    };
    const stream: Readable = new Readable({
      highWaterMark: CHUNK_SIZE,
      destroy: (err, cb) => {
        release();
        cb(err);
      },
      read: () => {
        if (txn !== undefined && Date.now() - pinnedAt > PIN_MAX_MS) release();
        if (left === 0) {
          release();
          if (hash !== undefined && hash.digest('base64') !== rec.m.digest) {
            this.dropCorrupt(slot, rec.id);
            return void stream.destroy(corrupt(key));
          }
          return void stream.push(null);
        }
        let chunk: Buffer | undefined;
        try {
          chunk = this.db.chunks.get([rec.id, index], txn !== undefined ? { transaction: txn } : undefined);
        } catch {
          chunk = undefined; // store closed
        }
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

  /** A read snapshot in which `slot` still holds body `id`, or undefined (none left, or not in it). */
  private pin(slot: string, id: number): PinnedTxn | undefined {
    if (this.pinned >= PIN_MAX_STREAMS || this.closed) return undefined;
    let txn: PinnedTxn;
    try {
      txn = (this.env as unknown as { useReadTransaction(): PinnedTxn }).useReadTransaction();
    } catch {
      return undefined;
    }
    let same = false;
    try {
      const rec = this.db.meta.get(slot, { transaction: txn } as never) as Rec | undefined;
      same = validRec(rec) && rec.id === id;
    } catch {
      same = false;
    }
    if (!same) {
      txn.done();
      return undefined;
    }
    this.pinned++;
    return txn;
  }

  private dropCorrupt(slot: string, id: number): void {
    if (this.closed) return;
    this.txnBackground(() => {
      const rec = this.db.meta.get(slot);
      if (rec !== undefined && rec.id === id) this.removeRec(slot, rec);
    });
  }

  write(init: EntryInit): EntryWriter {
    if (Buffer.byteLength(slotKey(init.key, init.variant)) > MAX_SLOT_BYTES) {
      this.refusals.keyTooLong++;
      return new RefusedWriter(keyTooLong(init.key, MAX_SLOT_BYTES));
    }
    if (this.full) {
      this.refusals.full++;
      return new RefusedWriter(storeFull(init.key, 'the disk store failed a recent write (disk full?)'));
    }
    return new LmdbWriter(this, init);
  }

  /** @internal writer: a fresh body id */
  allocId(): number {
    return this.nextId();
  }

  /** @internal writer: mark an id as being written (before its first chunk) */
  markPending(id: number): Promise<boolean> {
    return this.guard(this.db.pending.put(id, this.token));
  }

  /**
   * @internal writer: store one full chunk. Its bytes count against the shared budget at once (`pending`),
   * evicting committed entries to make room; when the bodies in flight alone would not fit, the chunk is
   * refused and the fill gives up storing.
   */
  putChunk(id: number, index: number, chunk: Buffer): Promise<boolean> {
    const key = `body ${id}`;
    return this.txn(() => {
      const budget = this.sharedBudget();
      const pending = (this.db.state.get('pending') ?? 0) + chunk.length;
      if (pending > budget) {
        this.refusals.budget++;
        throw storeFull(key, `bodies being received would exceed the disk budget (${budget} bytes)`);
      }
      this.db.chunks.putSync([id, index], chunk);
      this.addPending(chunk.length);
      this.evictTo(budget - pending, undefined);
      return true;
    });
  }

  /** @internal writer: forget an aborted body */
  discard(id: number, count: number): void {
    if (this.closed) return;
    this.txnBackground(() => {
      let freed = 0;
      for (let i = 0; i < count; i++) {
        freed += this.db.chunks.getBinaryFast([id, i])?.length ?? 0;
        this.db.chunks.removeSync([id, i]);
      }
      this.db.pending.removeSync(id);
      this.addPending(-freed);
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
    if (charge > this.sharedBudget()) return Promise.reject(tooLarge(meta.key, this.sharedBudget()));
    if (this.closed) return Promise.reject(writerClosed(meta.key));
    const { chunks, meta: metaDb, order, pending, state } = this.db;
    return this.txn(() => {
      const n = written + (last ? 1 : 0);
      if (last) chunks.putSync([id, written], last);
      let total = 0;
      for (let i = 0; i < n; i++) total += chunks.getBinaryFast([id, i])?.length ?? 0;
      if (total !== meta.size) throw sizeMismatch(meta.key, meta.size, total);
      const old = this.safeRec(slot);
      if (old !== undefined) this.removeRec(slot, old, false);
      const inflation = state.get('inflation') ?? 0;
      const p = this.policy.priority({ size: charge, frequency: 1, now: Date.now() }, inflation);
      metaDb.putSync(slot, { m: meta, id, n, c: charge, p, f: 1 });
      order.putSync([p, slot], 1);
      // the full chunks were counted as pending when put; now they are the entry's
      const left = written > 0 ? this.addPending(-(total - (last?.length ?? 0))) : (state.get('pending') ?? 0);
      if (written > 0) pending.removeSync(id);
      this.add('bytes', charge);
      this.add('objects', 1);
      this.logChange(meta.key);
      this.evictTo(this.sharedBudget() - left, slot);
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
      let rec: unknown;
      try {
        rec = meta.get(k[1]);
      } catch {
        rec = null;
      }
      if (rec === undefined) continue;
      if (!validRec(rec)) {
        // skipped and removed, not thrown: the rest of the pass goes on
        this.dropCorruptSlot(k[1], k);
        continue;
      }
      victims.push(k);
      bytes -= rec.c;
    }
    for (const [p, slot] of victims) {
      const rec = this.safeRec(slot);
      if (rec === undefined) continue;
      this.removeRec(slot, rec, false);
      inflation = this.policy.inflationAfterEvict(inflation, p);
      evicted++;
    }
    if (evicted > 0) {
      state.putSync('inflation', inflation);
      this.add('evictions', evicted);
    }
  }

  /** In a transaction: remove one entry with its chunks and accounting. */
  private removeRec(slot: string, rec: Rec, log = true): void {
    if (log) this.logChange(rec.m.key);
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
        const rec = this.safeRec(slot);
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
      const rec = this.safeRec(slot);
      if (rec === undefined || rec.m.digest !== meta.digest || rec.m.size !== meta.size) return;
      const m: EntryMeta = { ...meta, size: rec.m.size, digest: rec.m.digest };
      const c = m.size + headerBytes(m) + DISK_ENTRY_OVERHEAD;
      this.db.meta.putSync(slot, { ...rec, m, c });
      this.logChange(meta.key);
      this.add('bytes', c - rec.c);
    });
  }

  /** Slots are listed inside the transaction (a commit queued before the delete is seen, and removed); the purge
   * itself is logged by `log` (also when nothing was on disk: memory tiers may hold it). */
  private async removeSlots(list: () => string[], log: () => void): Promise<number> {
    if (this.closed) return 0;
    return this.txn(() => {
      let n = 0;
      for (const slot of list()) {
        const rec = this.safeRec(slot);
        if (rec === undefined) continue;
        this.removeRec(slot, rec, false);
        n++;
      }
      log();
      return n;
    });
  }

  async delete(key: string, variant?: string): Promise<number> {
    if (Buffer.byteLength(key) + 1 + (variant === undefined ? 0 : Buffer.byteLength(variant)) > MAX_SLOT_BYTES) return 0;
    return this.removeSlots(() => variant !== undefined ? [slotKey(key, variant)] : [...this.db.meta.getKeys({ start: key + SEP, end: key + SEP_END })], () => this.logChange(key));
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (Buffer.byteLength(prefix) > MAX_SLOT_BYTES) return 0;
    return this.removeSlots(() => {
      const slots: string[] = [];
      for (const slot of this.db.meta.getKeys({ start: prefix })) {
        if (!slot.startsWith(prefix)) break;
        slots.push(slot);
      }
      return slots;
    }, () => this.logChange(prefix, true));
  }

  stats(): StoreStats {
    const { state } = this.db;
    return {
      tier: this.tier,
      objects: state.get('objects') ?? 0,
      bytes: state.get('bytes') ?? 0,
      budget: this.sharedBudget(),
      evictions: state.get('evictions') ?? 0,
      hits: this.hits,
      misses: this.misses,
      refused: { ...this.refusals },
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

/** A writer for an entry the store will not take: says why on the first write or commit, writes nothing. */
class RefusedWriter implements EntryWriter {
  private told = false;
  constructor(private readonly reason: StoreError) {}

  write(): void | Promise<void> {
    if (this.told) return;
    this.told = true;
    return Promise.reject(this.reason);
  }

  commit(): Promise<EntryMeta> {
    return Promise.reject(this.reason);
  }

  abort(): void {
    this.told = true;
  }
}

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
  /** a chunk put failed (budget taken by fills in flight, disk full): the fill gives up storing */
  private putError: unknown;

  constructor(
    private readonly store: LmdbStore,
    private readonly init: EntryInit,
  ) {}

  write(chunk: Buffer): void | Promise<void> {
    if (this.done) {
      if (this.failed) return;
      return Promise.reject(writerClosed(this.init.key));
    }
    if (this.putError !== undefined) {
      this.failed = this.putError instanceof StoreError ? this.putError : storeFull(this.init.key, 'the disk failed a write');
      this.abort();
      return Promise.reject(this.failed);
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
      put.then(() => chunkPool.give(c), (err: unknown) => {
        this.putError ??= err; // a failed put's buffer is not reused
      });
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
