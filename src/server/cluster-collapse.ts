/**
 * Request collapsing across cluster workers: at most one upstream fetch per cache key in the whole
 * cluster (scenario S5 stays at one origin request with N workers).
 *
 * The primary is a lock service (CollapseLocks). A worker's first request for a key asks it "lead K?":
 * the first asker is granted the flight and fetches; the others are told "busy" and wait, like local
 * followers, until the primary relays "K done (stored | not)". Then they read the shared disk store
 * (stored) or go upstream on their own (not stored, or after collapseTimeout). Within one worker, later
 * requests for a key already asked about or leading follow locally and cost no IPC.
 *
 * Failure handling: a grant ends when the leader says done, when the leader's process dies (its waiters are
 * released as "not stored") or after the bound, whichever comes first; a primary that does not answer in
 * time makes the worker lead on its own (collapsing then degrades to per-process, never to a hang).
 *
 * ClusterCollapser implements the engine's KeyCollapser, so the engine does not know which one it has.
 */
import { waitBounded, type FlightResult, type KeyCollapser } from '../cache/collapse.js';
import type { PrimaryMessage, WorkerMessage } from './cluster-messages.js';

/** How long a worker waits for the primary's answer before leading on its own. */
export const ASK_TIMEOUT_MS = 2_000;

type Finish = (r: FlightResult) => void;

interface Flight {
  promise: Promise<FlightResult>;
  resolve: (r: FlightResult) => void;
  /** another worker leads: this flight ends when the primary relays 'flight-done' */
  remote: boolean;
}

/** The worker's end of the channel (process in a cluster worker). */
export interface WorkerChannel {
  send(m: WorkerMessage): unknown;
  readonly connected: boolean;
}

export class ClusterCollapser implements KeyCollapser {
  private readonly flights = new Map<string, Flight>();
  private readonly asks = new Map<number, (granted: boolean) => void>();
  private nextId = 0;

  constructor(
    private readonly channel: WorkerChannel,
    private readonly timeoutMs: number,
    private readonly maxFlights = 100_000,
    private readonly askTimeoutMs = ASK_TIMEOUT_MS,
  ) {}

  /** Feed every message from the primary here. */
  onMessage(m: PrimaryMessage): void {
    if (m.lx === 'granted' || m.lx === 'busy') {
      this.asks.get(m.id)?.(m.lx === 'granted');
    } else if (m.lx === 'flight-done') {
      const f = this.flights.get(m.key);
      if (f?.remote) {
        this.flights.delete(m.key);
        f.resolve({ stored: m.stored });
      }
    }
  }

  lead(key: string): Finish | undefined | Promise<Finish | undefined> {
    if (this.flights.has(key) || this.flights.size >= this.maxFlights) return undefined;
    let resolve!: (r: FlightResult) => void;
    const promise = new Promise<FlightResult>((r) => { resolve = r; });
    const flight: Flight = { promise, resolve, remote: false };
    this.flights.set(key, flight);
    const id = ++this.nextId;
    if (!this.channel.connected) return this.finisher(key, flight, id, false);
    return new Promise<Finish | undefined>((answer) => {
      const timer = setTimeout(() => settle(true), this.askTimeoutMs);
      timer.unref?.();
      const settle = (granted: boolean): void => {
        clearTimeout(timer);
        this.asks.delete(id);
        if (granted) return answer(this.finisher(key, flight, id, true));
        flight.remote = true;
        answer(undefined);
      };
      this.asks.set(id, settle);
      try {
        this.channel.send({ lx: 'lead', id, key });
      } catch {
        settle(true);
      }
    });
  }

  private finisher(key: string, flight: Flight, id: number, tell: boolean): Finish {
    let done = false;
    return (r) => {
      if (done) return;
      done = true;
      if (this.flights.get(key) === flight) this.flights.delete(key);
      flight.resolve(r);
      if (tell && this.channel.connected) {
        try { this.channel.send({ lx: 'done', id, key, stored: r.stored }); } catch { /* primary gone */ }
      }
    };
  }

  has(key: string): boolean {
    return this.flights.has(key);
  }

  async wait(key: string): Promise<FlightResult & { timedOut: boolean }> {
    const flight = this.flights.get(key);
    if (!flight) return { stored: false, timedOut: false };
    return waitBounded(flight.promise, this.timeoutMs);
  }
}

interface Lock {
  owner: number;
  /** the grant's id, so a late 'done' from an earlier grant cannot end a newer one */
  id: number;
  waiters: Set<number>;
  timer: NodeJS.Timeout;
}

/** The primary's side: one lock per key across all workers. */
export class CollapseLocks {
  private readonly locks = new Map<string, Lock>();

  /**
   * @param send deliver a message to a worker (by cluster worker id)
   * @param boundMs a grant ends after this long even without 'done' (followers have stopped waiting by then)
   */
  constructor(private readonly send: (workerId: number, m: PrimaryMessage) => void, private readonly boundMs: number) {}

  onMessage(workerId: number, m: WorkerMessage): void {
    if (m.lx === 'lead') {
      const held = this.locks.get(m.key);
      if (held && held.owner !== workerId) {
        held.waiters.add(workerId);
        this.send(workerId, { lx: 'busy', id: m.id });
        return;
      }
      // a worker asks again only after its previous flight for the key ended locally: a fresh grant
      if (held) this.release(m.key, held, false);
      const timer = setTimeout(() => {
        const l = this.locks.get(m.key);
        if (l && l.id === m.id && l.owner === workerId) this.release(m.key, l, false);
      }, this.boundMs);
      timer.unref?.();
      this.locks.set(m.key, { owner: workerId, id: m.id, waiters: new Set(), timer });
      this.send(workerId, { lx: 'granted', id: m.id });
    } else if (m.lx === 'done') {
      const l = this.locks.get(m.key);
      if (l && l.owner === workerId && l.id === m.id) this.release(m.key, l, m.stored);
    }
  }

  /** A worker died: its flights end as "not stored", and it waits for nothing any more. */
  workerGone(workerId: number): void {
    for (const [key, l] of [...this.locks]) {
      if (l.owner === workerId) this.release(key, l, false);
      else l.waiters.delete(workerId);
    }
  }

  get held(): number {
    return this.locks.size;
  }

  private release(key: string, l: Lock, stored: boolean): void {
    clearTimeout(l.timer);
    if (this.locks.get(key) === l) this.locks.delete(key);
    for (const w of l.waiters) this.send(w, { lx: 'flight-done', key, stored });
  }
}
