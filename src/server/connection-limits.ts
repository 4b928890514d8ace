/**
 * Total and per-client connection caps for the listener. One client (or a few) must not be able to use up
 * every file descriptor of the proxy; the listener calls `admit` on each 'connection' and destroys the
 * socket when it returns false. Counts drop when the socket closes, however it closes.
 */
import type { Socket } from 'node:net';
import { normalizeAddress } from '../net/address.js';

export class ConnectionLimits {
  private readonly maxTotal: number;
  private readonly maxPerClient: number;
  private readonly perClient = new Map<string, number>();
  private total = 0;
  /** connections refused so far, by reason (for metrics) */
  readonly refused = { total: 0, perClient: 0 };

  /** A limit of 0 means no limit. */
  constructor(opts: { maxTotal: number; maxPerClient: number }) {
    this.maxTotal = opts.maxTotal;
    this.maxPerClient = opts.maxPerClient;
  }

  /** Connections currently admitted and open. */
  get open(): number {
    return this.total;
  }

  /** Open connections of one client address (any textual form). */
  openFor(address: string): number {
    return this.perClient.get(clientKey(address)) ?? 0;
  }

  /**
   * Call on the server's 'connection' event. Returns false when the socket must be refused (the caller
   * destroys it); otherwise counts it until it closes.
   */
  admit(socket: Socket): boolean {
    const address = socket.remoteAddress;
    // no remote address: the socket is already closed; nothing to serve
    if (address === undefined || socket.destroyed) return false;
    if (this.maxTotal > 0 && this.total >= this.maxTotal) {
      this.refused.total++;
      return false;
    }
    const key = clientKey(address);
    const mine = this.perClient.get(key) ?? 0;
    if (this.maxPerClient > 0 && mine >= this.maxPerClient) {
      this.refused.perClient++;
      return false;
    }
    this.total++;
    this.perClient.set(key, mine + 1);
    socket.once('close', () => this.release(key));
    return true;
  }

  private release(key: string): void {
    this.total--;
    const n = (this.perClient.get(key) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(key);
    else this.perClient.set(key, n);
  }
}

/** ::ffff:10.0.0.1 and 10.0.0.1 are the same client. */
function clientKey(address: string): string {
  return normalizeAddress(address)?.address ?? address;
}
