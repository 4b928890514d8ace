/**
 * Name resolution with a deadline. dns.lookup (getaddrinfo) runs on libuv's thread pool, which is small
 * (UV_THREADPOOL_SIZE, 4 by default) and shared with file and crypto work, and it cannot be cancelled:
 * a lookup whose name server never answers holds its thread until the OS resolver gives up (tens of
 * seconds). So:
 *
 * - every caller gets an answer or a DnsTimeoutError within `timeoutMs` (waiting for a slot included);
 * - at most `maxConcurrent` getaddrinfo calls are outstanding at once, counting those whose callers
 *   already gave up, so hung lookups can never take the whole pool (default: pool size - 1);
 * - concurrent lookups of the same name share one getaddrinfo call, so one hung name costs one slot.
 *
 * dns.lookup is kept (rather than c-ares' dns.Resolver, which has its own timeout and no thread) because
 * it answers like the rest of the system does: /etc/hosts, nsswitch, search domains.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';

/** Resolves a name to all its addresses (dns.lookup with all: true). */
export type HostLookup = (hostname: string, options: { family: 0 | 4 | 6; hints?: number }) => Promise<LookupAddress[]>;

export class DnsTimeoutError extends Error {
  readonly code = 'LARDER_DNS_TIMEOUT';
  constructor(readonly hostname: string, readonly timeoutMs: number) {
    super(`DNS lookup of ${hostname} timed out after ${timeoutMs} ms`);
    this.name = 'DnsTimeoutError';
  }
}

export interface BoundedLookupOptions {
  /** each caller's deadline, ms */
  timeoutMs: number;
  /** getaddrinfo calls outstanding at most (default: UV_THREADPOOL_SIZE - 1, at least 1) */
  maxConcurrent?: number;
  /** the underlying resolver (default dns.lookup with all: true); tests inject one */
  lookup?: HostLookup;
}

export const systemLookup: HostLookup = (hostname, options) =>
  dnsLookup(hostname, { all: true, family: options.family, ...(options.hints !== undefined ? { hints: options.hints } : {}) });

interface Waiter {
  resolve: (a: LookupAddress[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

interface Flight {
  key: string;
  hostname: string;
  options: { family: 0 | 4 | 6; hints?: number };
  waiters: Set<Waiter>;
  started: boolean;
}

/** A HostLookup bounded in time and in concurrent getaddrinfo calls (see the module comment). */
export function boundedLookup(opts: BoundedLookupOptions): HostLookup & { readonly outstanding: number } {
  const raw = opts.lookup ?? systemLookup;
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  const cap = Math.max(1, opts.maxConcurrent ?? poolSize - 1);
  const flights = new Map<string, Flight>();
  const queue: Flight[] = [];
  let running = 0;

  const settle = (f: Flight, err: Error | null, addresses?: LookupAddress[]): void => {
    running--;
    if (flights.get(f.key) === f) flights.delete(f.key);
    for (const w of f.waiters) {
      clearTimeout(w.timer);
      if (err) w.reject(err);
      else w.resolve(addresses!);
    }
    f.waiters.clear();
    pump();
  };

  const pump = (): void => {
    while (running < cap && queue.length > 0) {
      const f = queue.shift()!;
      if (f.waiters.size === 0) { flights.delete(f.key); continue; }
      f.started = true;
      running++;
      let p: Promise<LookupAddress[]>;
      try {
        p = raw(f.hostname, f.options);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then((a) => settle(f, null, a), (e: unknown) => settle(f, e instanceof Error ? e : new Error(String(e))));
    }
  };

  const lookup = (hostname: string, options: { family: 0 | 4 | 6; hints?: number }): Promise<LookupAddress[]> => {
    const key = `${options.family}/${options.hints ?? 0}/${hostname}`;
    let f = flights.get(key);
    if (!f) {
      f = { key, hostname, options, waiters: new Set(), started: false };
      flights.set(key, f);
      queue.push(f);
    }
    const flight = f;
    const answer = new Promise<LookupAddress[]>((resolve, reject) => {
      const w: Waiter = {
        resolve, reject,
        timer: setTimeout(() => {
          flight.waiters.delete(w);
          if (!flight.started && flight.waiters.size === 0) {
            // nobody waits for a lookup that never started: drop it instead of running it later
            const i = queue.indexOf(flight);
            if (i >= 0) queue.splice(i, 1);
            if (flights.get(key) === flight) flights.delete(key);
          }
          reject(new DnsTimeoutError(hostname, opts.timeoutMs));
        }, opts.timeoutMs),
      };
      flight.waiters.add(w);
    });
    pump();
    return answer;
  };
  return Object.defineProperty(lookup, 'outstanding', { get: () => running }) as HostLookup & { readonly outstanding: number };
}
