/**
 * Client access rules: which client addresses may use the proxy, as CIDR lists on node:net's BlockList
 * (the address helpers are src/net/address.ts).
 */
import type { BlockList } from 'node:net';
import { LOOPBACK_CIDRS, normalizeAddress, parseCidrList } from '../net/address.js';

/** Which clients may use the proxy. */
export class ClientAccess {
  private readonly list: BlockList;
  private readonly allowAll: boolean;

  /**
   * `allow` empty means loopback only (127.0.0.0/8, ::1); `allowAll` admits everyone. With an auth file
   * and no `allow`, the admission step (admission.ts) also admits other clients that authenticate.
   */
  constructor(opts: { allow: string[]; allowAll: boolean }) {
    this.allowAll = opts.allowAll;
    this.list = parseCidrList(opts.allow.length > 0 ? opts.allow : [...LOOPBACK_CIDRS], 'allow');
  }

  /** `address` is socket.remoteAddress; undefined (socket already gone) is refused. */
  isAllowed(address: string | undefined): boolean {
    if (this.allowAll) return true;
    if (typeof address !== 'string') return false;
    const n = normalizeAddress(address);
    if (!n) return false;
    return this.list.check(n.address, n.family === 4 ? 'ipv4' : 'ipv6');
  }
}
