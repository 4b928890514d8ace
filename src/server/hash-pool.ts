/**
 * bcrypt off the event loop. bcryptjs is pure JavaScript: even its "async" mode runs the rounds on the
 * main thread in slices of up to 100 ms, so a burst of password checks delays every other client. Here
 * the hashing runs in a small pool of worker threads, and the work waiting for it is bounded: past
 * `maxQueued` outstanding checks a new one is refused at once (HashPoolBusyError), never queued without
 * limit.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';

export class HashPoolBusyError extends Error {
  readonly code = 'LARDER_HASH_POOL_BUSY';
  constructor(limit: number) {
    super(`more than ${limit} password checks waiting`);
  }
}

const BCRYPT_PATH = createRequire(import.meta.url).resolve('bcryptjs');
// eval'd as CommonJS in the worker: no TypeScript loader needed, works the same from src/ and dist/
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(BCRYPT_PATH)});
parentPort.on('message', (m) => {
  let r;
  try { r = { id: m.id, hash: bcrypt.hashSync(m.password, m.salt) }; }
  catch (e) { r = { id: m.id, error: String((e && e.message) || e) }; }
  parentPort.postMessage(r);
});`;

interface Job {
  resolve: (hash: string) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

export interface HashPoolOptions {
  /** worker threads (default: cores - 1, at least 1, at most 2) */
  threads?: number;
  /** checks outstanding at most (running + waiting); default 64 */
  maxQueued?: number;
}

export class HashPool {
  private readonly threads: number;
  private readonly maxQueued: number;
  private readonly slots: (Slot | undefined)[];
  private nextId = 1;
  private outstanding = 0;

  constructor(opts: HashPoolOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? Math.min(2, availableParallelism() - 1));
    this.maxQueued = Math.max(1, opts.maxQueued ?? 64);
    this.slots = new Array<Slot | undefined>(this.threads).fill(undefined);
  }

  /** Checks running or waiting. */
  get pending(): number {
    return this.outstanding;
  }

  /** bcrypt(password, salt) computed in a worker thread. Rejects with HashPoolBusyError when full. */
  bcrypt(password: string, salt: string): Promise<string> {
    if (this.outstanding >= this.maxQueued) return Promise.reject(new HashPoolBusyError(this.maxQueued));
    const slot = this.leastBusy();
    const id = this.nextId++;
    this.outstanding++;
    return new Promise<string>((resolve, reject) => {
      slot.jobs.set(id, {
        resolve: (h) => { this.outstanding--; resolve(h); },
        reject: (e) => { this.outstanding--; reject(e); },
      });
      slot.worker.postMessage({ id, password, salt });
    });
  }

  /** Stop the workers; outstanding checks are rejected. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s?.worker.terminate()));
  }

  private leastBusy(): Slot {
    let best = 0;
    for (let i = 0; i < this.threads; i++) {
      const s = this.slots[i];
      if (!s) return this.spawn(i);
      if (s.jobs.size < this.slots[best]!.jobs.size) best = i;
    }
    return this.slots[best]!;
  }

  private spawn(i: number): Slot {
    // plain CommonJS: no loader flags (tsx under tests) needed in the worker
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    worker.unref(); // an idle pool never keeps the process alive
    const slot: Slot = { worker, jobs: new Map() };
    worker.on('message', (m: { id: number; hash?: string; error?: string }) => {
      const job = slot.jobs.get(m.id);
      if (!job) return;
      slot.jobs.delete(m.id);
      if (m.hash !== undefined) job.resolve(m.hash);
      else job.reject(new Error(m.error ?? 'bcrypt failed'));
    });
    const lost = (err: Error): void => {
      if (this.slots[i] === slot) this.slots[i] = undefined; // the next check starts a fresh worker
      for (const job of slot.jobs.values()) job.reject(err);
      slot.jobs.clear();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`password worker exited (${code})`)));
    this.slots[i] = slot;
    return slot;
  }
}
