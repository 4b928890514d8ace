/**
 * Client access rules: which client addresses may use the proxy, as CIDR lists on node:net's BlockList.
 * Also the address helpers shared with the destination rules (src/proxy/destination.ts):
 * IPv4-mapped IPv6 (::ffff:1.2.3.4, RFC 4291 §2.5.5.2) and other IPv6 forms that embed an IPv4 address
 * are checked as the IPv4 address they reach, so `::ffff:169.254.169.254` cannot slip past `169.254.0.0/16`.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../config/load.js';

/** Default client rule when `allow` is empty: loopback only. */
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/**
 * Parse CIDR entries (`10.0.0.0/8`, `fd00::/8`, or a bare address meaning /32 or /128) into a BlockList.
 * Throws a ConfigError naming `key` and the bad entry.
 */
export function parseCidrList(list: string[], key: string): BlockList {
  const blocks = new BlockList();
  for (const raw of list) {
    const entry = raw.trim();
    const bad = (why: string): never => {
      throw new ConfigError(`${key}: ${JSON.stringify(raw)} is not a valid CIDR (${why}); expected e.g. 10.0.0.0/8, 192.168.1.7 or fd00::/8`);
    };
    const slash = entry.indexOf('/');
    const addrText = stripBrackets(slash < 0 ? entry : entry.slice(0, slash));
    const prefixText = slash < 0 ? undefined : entry.slice(slash + 1);
    const version = isIP(addrText);
    if (version === 0 || addrText.includes('%')) bad('not an IP address');
    const max = version === 4 ? 32 : 128;
    let prefix = max;
    if (prefixText !== undefined) {
      if (!/^\d{1,3}$/.test(prefixText)) bad('prefix length is not a number');
      prefix = Number(prefixText);
      if (prefix > max) bad(`prefix length above ${max}`);
    }
    // An IPv4-mapped IPv6 rule (::ffff:10.0.0.0/104) is the IPv4 rule it spells; addresses are checked
    // in their IPv4 form (see normalizeAddress), so store it that way.
    const mapped = version === 6 ? embeddedIPv4(addrText) : undefined;
    if (mapped !== undefined && mapped.kind === 'mapped' && prefix >= 96) {
      blocks.addSubnet(mapped.v4, prefix - 96, 'ipv4');
    } else {
      blocks.addSubnet(addrText, prefix, version === 4 ? 'ipv4' : 'ipv6');
    }
  }
  return blocks;
}

function stripBrackets(s: string): string {
  return s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
}

/** Parse the 8 groups of an IPv6 address (no zone id); undefined when it is not one. */
function ipv6Groups(addr: string): number[] | undefined {
  if (isIP(addr) !== 6) return undefined;
  let text = addr;
  const groups: number[] = [];
  // trailing dotted IPv4 (::ffff:1.2.3.4) becomes two groups
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (dotted) {
    const o = dotted[2]!.split('.').map(Number);
    tail = [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!];
    text = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = 8 - tail.length - left.length - right.length;
  if (rest === undefined && fill !== 0) return undefined;
  groups.push(...left, ...new Array<number>(Math.max(0, fill)).fill(0), ...right, ...tail);
  return groups.length === 8 ? groups : undefined;
}

/**
 * The IPv4 address an IPv6 address reaches, when it embeds one:
 * IPv4-mapped ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), the deprecated IPv4-compatible ::a.b.c.d (§2.5.5.1)
 * and the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052 §2.1).
 */
function embeddedIPv4(addr: string): { v4: string; kind: 'mapped' | 'compatible' | 'nat64' } | undefined {
  const g = ipv6Groups(addr);
  if (!g) return undefined;
  const v4 = `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  const zeros = (from: number, to: number): boolean => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return { v4, kind: 'mapped' };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { v4, kind: 'nat64' };
  // ::a.b.c.d, but not :: and ::1 themselves
  if (zeros(0, 6) && (g[6]! !== 0 || g[7]! > 1)) return { v4, kind: 'compatible' };
  return undefined;
}

/**
 * Normalise an address for rule checks: strips [brackets] and an IPv6 zone id (fe80::1%eth0) and turns
 * IPv4-mapped IPv6 into IPv4. Returns the address and its family, or undefined when it is not an IP.
 */
export function normalizeAddress(address: string): { address: string; family: 4 | 6 } | undefined {
  let a = stripBrackets(address.trim());
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const v = isIP(a);
  if (v === 4) return { address: a, family: 4 };
  if (v !== 6) return undefined;
  const embedded = embeddedIPv4(a);
  if (embedded?.kind === 'mapped') return { address: embedded.v4, family: 4 };
  return { address: a.toLowerCase(), family: 6 };
}

/**
 * True when the address (any textual form) matches the list. An IPv6 address that embeds an IPv4 one
 * (mapped, IPv4-compatible, NAT64) matches when either form does.
 */
export function addressInList(list: BlockList, address: string): boolean {
  const n = normalizeAddress(address);
  if (!n) return false;
  if (list.check(n.address, n.family === 4 ? 'ipv4' : 'ipv6')) return true;
  if (n.family === 6) {
    const embedded = embeddedIPv4(n.address);
    if (embedded && list.check(embedded.v4, 'ipv4')) return true;
  }
  return false;
}

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
    this.list = parseCidrList(opts.allow.length > 0 ? opts.allow : LOOPBACK, 'allow');
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

/** True for loopback addresses and the name `localhost` (RFC 6761 §6.3). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const n = normalizeAddress(h);
  if (!n) return false;
  return n.family === 4 ? n.address.startsWith('127.') : ipv6Groups(n.address)?.every((g, i) => g === (i === 7 ? 1 : 0)) === true;
}
