/**
 * Request collapsing: per process, at most one upstream fetch in flight per cache key (DESIGN.md
 * invariant 4). Followers wait, bounded by a timeout, for the leader to finish; they then look the store
 * up again and are served from it if the leader's response was shareable, or go upstream on their own.
 */

export interface FlightResult {
  /** the leader stored a response others may use */
  stored: boolean;
}

/**
 * What the engine needs from a collapser. lead() may answer asynchronously: across cluster workers the
 * primary arbitrates (server/cluster-collapse.ts); in one process the answer is immediate.
 */
export interface KeyCollapser {
  lead(key: string): ((r: FlightResult) => void) | undefined | Promise<((r: FlightResult) => void) | undefined>;
  has(key: string): boolean;
  /** requests waiting for key's flight; undefined when not known here (another process arbitrates) */
  waiting?(key: string): number;
  wait(key: string): Promise<FlightResult & { timedOut: boolean }>;
}

interface Flight {
  promise: Promise<FlightResult>;
  resolve: (r: FlightResult) => void;
  waiters: number;
}

export class Collapser implements KeyCollapser {
  private readonly flights = new Map<string, Flight>();
  /** requests not collapsed because maxFlights flights were already running (they went upstream alone) */
  refusedAtMax = 0;

  constructor(private readonly timeoutMs: number, private readonly maxFlights = 100_000) {}

  /** Become the leader for key (returns a finish callback), or undefined when a flight is already running. */
  lead(key: string): ((r: FlightResult) => void) | undefined {
    if (this.flights.has(key)) return undefined;
    if (this.flights.size >= this.maxFlights) {
      this.refusedAtMax++;
      return undefined;
    }
    let resolve!: (r: FlightResult) => void;
    const promise = new Promise<FlightResult>((r) => { resolve = r; });
    const flight: Flight = { promise, resolve, waiters: 0 };
    this.flights.set(key, flight);
    let done = false;
    return (r) => {
      if (done) return;
      done = true;
      if (this.flights.get(key) === flight) this.flights.delete(key);
      resolve(r);
    };
  }

  has(key: string): boolean {
    return this.flights.has(key);
  }

  /** How many requests wait for the flight of key (0 when none runs). */
  waiting(key: string): number {
    return this.flights.get(key)?.waiters ?? 0;
  }

  /** Wait for the running flight for key; resolves {stored:false} on timeout or when there is none. */
  async wait(key: string): Promise<FlightResult & { timedOut: boolean }> {
    const flight = this.flights.get(key);
    if (!flight) return { stored: false, timedOut: false };
    flight.waiters++;
    try {
      return await waitBounded(flight.promise, this.timeoutMs);
    } finally {
      flight.waiters--;
    }
  }
}

/** The leader's result, or {stored:false, timedOut:true} once timeoutMs passed. */
export async function waitBounded(flight: Promise<FlightResult>, timeoutMs: number): Promise<FlightResult & { timedOut: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<FlightResult & { timedOut: boolean }>((r) => {
    timer = setTimeout(() => r({ stored: false, timedOut: true }), timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([flight.then((x) => ({ ...x, timedOut: false })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
