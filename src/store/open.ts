/** Open the stores a configuration asks for: memory + LMDB disk (tiered), or memory only. */
import type { EvictionName } from './eviction/types.js';
import { LmdbStore, readStoreStats } from './lmdb.js';
import { MemoryStore } from './memory.js';
import { TieredStore } from './tiered.js';
import type { Store, StoreStats } from './types.js';

export { readStoreStats };
export { StoreOpenError, StoreError } from './errors.js';

export interface OpenStoreOptions {
  memorySize: number;
  maxObjectSize: number;
  disk: boolean;
  cacheDir: string;
  cacheSize: number;
  eviction: EvictionName;
  /** told once per episode when the disk store stops taking entries (full disk, I/O error) */
  onWriteError?: (message: string, err: unknown) => void;
}

export type OpenedStore = Store & { tierStats(): StoreStats[] };

/** Throws StoreOpenError (code LARDER_ERR_STORE_OPEN) when the disk store cannot be opened. */
export async function openStore(opts: OpenStoreOptions): Promise<OpenedStore> {
  const memory = new MemoryStore({ budget: opts.memorySize, maxObjectSize: Math.min(opts.maxObjectSize, opts.memorySize) });
  if (!opts.disk) return memory;
  const disk = await LmdbStore.open({ dir: opts.cacheDir, budget: opts.cacheSize, maxObjectSize: opts.maxObjectSize, eviction: opts.eviction, onWriteError: opts.onWriteError });
  return new TieredStore(memory, disk);
}
