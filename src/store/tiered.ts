/**
 * TieredStore: memory in front of a disk store. Lookups try memory first; a disk hit small enough is
 * promoted into memory the first time its body is read (the body is read once and handed to both).
 * Writes go to disk and, when the body fits the memory tier, to memory too; invalidations hit both.
 *
 * Coherence with other processes on the same disk store (workers, containers): before memory is trusted,
 * the disk store's change generation is read (one LMDB read on a fresh snapshot); keys changed by another
 * process since the last look are dropped from memory first, and all of memory when the change log no
 * longer reaches back. An entry goes into memory only while the disk still holds exactly it, checked in the
 * same synchronous step, so a change committed elsewhere is never hidden behind a memory copy.
 */
import { CONTIGUOUS_LIMIT, sliceRange } from './body.js';
import { writerClosed } from './errors.js';
import type { MemoryStore } from './memory.js';
import type { BodySource, ByteRange, EntryInit, EntryMeta, EntryWriter, Store, StoreStats } from './types.js';

/** Largest body promoted from disk into memory on a read. */
export const PROMOTE_LIMIT = CONTIGUOUS_LIMIT;

/** A writer in flight; `deleted` once a delete covering its key and variant was asked for meanwhile. */
interface InFlight { variant: string; deleted: boolean }

/** What a disk store shared by processes offers for memory-tier coherence (LmdbStore). */
export interface SharedDisk {
  readonly origin: number;
  generation(): number;
  /** [origin, key, key is a purged prefix] */
  changesSince(from: number, to: number): [number, string, boolean][] | undefined;
  holds(meta: EntryMeta): boolean;
}

function isShared(disk: Store): disk is Store & SharedDisk {
  const d = disk as Partial<SharedDisk>;
  return typeof d.generation === 'function' && typeof d.changesSince === 'function' && typeof d.holds === 'function';
}

export class TieredStore implements Store {
  readonly tier = 'tiered';
  private readonly shared: (Store & SharedDisk) | undefined;
  private seenGen: number;
  /**
   * Nothing comes back after a delete (an invalidation, RFC 9111 §4.4): a writer opened before it does not
   * commit, and a disk read that began before it does not promote its body into memory.
   */
  private readonly inFlight = new Map<string, Set<InFlight>>();
  private deletes = 0;
  /** deletes started and not finished: a disk read meanwhile may still see what they remove */
  private deleting = 0;

  constructor(
    readonly memory: MemoryStore,
    readonly disk: Store,
  ) {
    this.shared = isShared(disk) ? disk : undefined;
    this.seenGen = this.shared?.generation() ?? 0;
  }

  /** Bring memory up to the disk's changes made by other processes (see the header). */
  private sync(): void {
    const shared = this.shared;
    if (shared === undefined) return;
    let gen: number;
    try {
      gen = shared.generation();
    } catch {
      return; // disk closed: memory is all there is
    }
    if (gen === this.seenGen) return;
    const changes = gen > this.seenGen ? shared.changesSince(this.seenGen, gen) : undefined;
    if (changes === undefined) this.memory.clear();
    else {
      for (const [origin, key, prefix] of changes) {
        if (origin === shared.origin) continue; // made here: memory was updated with it
        if (prefix) this.memory.deletePrefixSync(key);
        else void this.memory.delete(key);
      }
    }
    this.seenGen = gen;
  }

  /**
   * The other processes' changes are applied before memory is trusted; for attachments (the fast hit path)
   * at most once per event-loop turn: the fresh LMDB read costs microseconds, and a change committed by
   * another process is seen by every request read from the network after it.
   */
  private syncedThisTurn = false;

  private syncOncePerTurn(): void {
    if (this.syncedThisTurn) return;
    this.sync();
    this.syncedThisTurn = true;
    setImmediate(() => { this.syncedThisTurn = false; });
  }

  attach(meta: EntryMeta, value: object): void {
    this.memory.attach(meta, value);
  }

  attachedSync(key: string): { value: object; body: Buffer } | undefined {
    this.syncOncePerTurn();
    return this.memory.attachedSync(key);
  }

  /** Insert into memory only while the disk holds exactly this entry (no stale copy can slip in). */
  private admit(meta: EntryMeta): boolean {
    if (this.shared === undefined) return true;
    this.sync();
    return this.shared.holds(meta);
  }

  lookup(key: string): Promise<EntryMeta[]> {
    this.sync();
    const hot = this.memory.lookupSync(key);
    // a response without Vary has one variant: memory's copy is the whole answer (the fast path)
    if (hot.length > 0 && hot.every((e) => e.vary.length === 0)) return Promise.resolve(hot);
    if (hot.length === 0) return this.disk.lookup(key);
    // with Vary, memory may hold only some of the variants: add the ones only on disk
    return this.disk.lookup(key).then((cold) => {
      const seen = new Set(hot.map((e) => e.variant));
      return [...hot, ...cold.filter((e) => !seen.has(e.variant))];
    }, () => hot);
  }

  async read(meta: EntryMeta, range?: ByteRange): Promise<BodySource | undefined> {
    if (this.memory.has(meta)) {
      const body = await this.memory.read(meta, range);
      if (body !== undefined) return body;
    }
    if (meta.size > PROMOTE_LIMIT || meta.size > this.memory.maxObjectSize) return this.disk.read(meta, range);
    const deletesBefore = this.deletes;
    const body = await this.disk.read(meta);
    if (body === undefined) return undefined;
    if (!Buffer.isBuffer(body)) {
      body.destroy();
      return this.disk.read(meta, range);
    }
    try {
      // the disk store verified length and digest; the buffer is ours, insert it without a copy. Not when a
      // delete came meanwhile: memory would then hold what the delete removed from disk.
      if (this.deletes === deletesBefore && this.deleting === 0 && this.admit(meta)) this.memory.insert(structuredClone({ ...meta, size: body.length }), body);
    } catch {
      // larger than the memory budget: serve from disk only
    }
    return sliceRange(body, range);
  }

  write(init: EntryInit): EntryWriter {
    const disk = this.disk.write(init);
    const fits = init.expectedSize === undefined || init.expectedSize <= this.memory.maxObjectSize;
    let mem: EntryWriter | undefined = fits ? this.memory.write(init) : undefined;
    const flight: InFlight = { variant: init.variant, deleted: false };
    let flights = this.inFlight.get(init.key);
    if (flights === undefined) this.inFlight.set(init.key, (flights = new Set()));
    flights.add(flight);
    const settle = () => {
      flights!.delete(flight);
      if (flights!.size === 0 && this.inFlight.get(init.key) === flights) this.inFlight.delete(init.key);
    };
    return {
      write: (chunk: Buffer) => {
        if (mem !== undefined) {
          const r = mem.write(chunk);
          if (r instanceof Promise) {
            r.catch(() => {});
            mem = undefined; // too large for memory, or memory's in-flight budget taken: disk only
          }
        }
        const d = disk.write(chunk);
        if (d instanceof Promise) {
          d.catch(() => {
            // the disk refused it (key too long, disk full, budget): no memory copy either
            mem?.abort();
            mem = undefined;
          });
        }
        return d;
      },
      commit: async () => {
        let meta: EntryMeta;
        try {
          if (flight.deleted) throw writerClosed(init.key);
          meta = await disk.commit();
        } catch (err) {
          mem?.abort();
          disk.abort();
          settle();
          throw err;
        }
        settle();
        // deleted while the disk commit was in flight: that delete runs after the commit and removes it from disk
        if (flight.deleted) {
          mem?.abort();
          throw writerClosed(init.key);
        }
        if (mem !== undefined) {
          if (this.admit(meta)) await mem.commit().catch(() => {});
          else mem.abort();
        }
        return meta;
      },
      abort: () => {
        mem?.abort();
        disk.abort();
        settle();
      },
    };
  }

  async update(meta: EntryMeta): Promise<void> {
    await Promise.all([this.memory.update(meta), this.disk.update(meta)]);
  }

  /** Marks the writers in flight that a delete covers (called synchronously, before the delete runs). */
  private markDeleted(matches: (key: string) => boolean, variant?: string): void {
    this.deletes++;
    for (const [key, flights] of this.inFlight) {
      if (!matches(key)) continue;
      for (const f of flights) if (variant === undefined || f.variant === variant) f.deleted = true;
    }
  }

  async delete(key: string, variant?: string): Promise<number> {
    this.markDeleted((k) => k === key, variant);
    this.deleting++;
    const [m, d] = await Promise.all([this.memory.delete(key, variant), this.disk.delete(key, variant)]).finally(() => this.deleting--);
    return Math.max(m, d);
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.markDeleted((k) => k.startsWith(prefix));
    this.deleting++;
    const [m, d] = await Promise.all([this.memory.deletePrefix(prefix), this.disk.deletePrefix(prefix)]).finally(() => this.deleting--);
    return Math.max(m, d);
  }

  /** Combined view: everything in memory is also on disk, so counts and bytes are the disk's. */
  stats(): StoreStats {
    const m = this.memory.stats();
    const d = this.disk.stats();
    return {
      tier: this.tier,
      objects: d.objects,
      bytes: d.bytes,
      budget: d.budget,
      evictions: m.evictions + d.evictions,
      hits: m.hits + d.hits,
      misses: d.misses,
    };
  }

  tierStats(): StoreStats[] {
    return [this.memory.stats(), this.disk.stats()];
  }

  async close(): Promise<void> {
    await Promise.all([this.memory.close(), this.disk.close()]);
  }
}
