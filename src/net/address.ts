/**
 * IP addresses and CIDR lists, on node:net's BlockList. IPv4-mapped IPv6 (::ffff:1.2.3.4, RFC 4291
 * §2.5.5.2) and the other IPv6 forms that embed an IPv4 address are checked as the IPv4 address they
 * reach, so `::ffff:169.254.169.254` cannot slip past `169.254.0.0/16`. Used by the client rule, the
 * destination rules, PURGE's allow list, the per-client limits and the admin listener.
 */
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/** 127.0.0.0/8 and ::1: the client rule's default, and what "loopback" means everywhere. */
export const LOOPBACK_CIDRS: readonly string[] = ['127.0.0.0/8', '::1/128'];

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

export function stripBrackets(s: string): string {
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

const LOOPBACK = parseCidrList([...LOOPBACK_CIDRS], 'builtin');

/**
 * True for a loopback address: 127.0.0.0/8 or ::1, in any spelling of those (brackets, zone id,
 * ::ffff:127.0.0.1). The other IPv6 forms that embed 127.x (::127.0.0.1, 64:ff9b::7f00:1) are not a
 * loopback client or listener; as destinations they are refused by `reachesLoopback`.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const n = normalizeAddress(address);
  return n !== undefined && LOOPBACK.check(n.address, n.family === 4 ? 'ipv4' : 'ipv6');
}

/** True when connecting to the address reaches loopback: `isLoopbackAddress`, or an IPv6 form embedding 127.x. */
export function reachesLoopback(address: string): boolean {
  return addressInList(LOOPBACK, address);
}

/**
 * The IP address a host string denotes, or undefined when it is a name. Accepts IPv6 (zone id kept out
 * of the check) and the numeric IPv4 spellings getaddrinfo/inet_aton and the URL parser accept
 * (2852039166, 0xa9fea9fe, 0251.0376.0251.0376). `h` is a normalised host (see host.ts).
 */
export function literalAddress(h: string): string | undefined {
  const bare = h.includes('%') ? h.slice(0, h.indexOf('%')) : h;
  if (isIP(bare) !== 0) return bare;
  if (/^[0-9a-fx.]+$/.test(h) && /^(0x[0-9a-f]*|\d+)(\.(0x[0-9a-f]*|\d+)){0,3}$/.test(h)) {
    try {
      const parsed = new URL(`http://${h}/`).hostname;
      if (isIP(parsed) === 4) return parsed;
    } catch {
      // not an IPv4 spelling the URL parser accepts (e.g. out of range): treat it as a name
    }
  }
  return undefined;
}

/** The address in one spelling (IPv4-mapped as IPv4, IPv6 lower-case) for set lookups. */
export function canonicalAddress(ip: string): string {
  return normalizeAddress(ip)?.address ?? ip;
}
