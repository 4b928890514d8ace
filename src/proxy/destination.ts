/**
 * Destination rules: which hosts and addresses the proxy connects to on a client's behalf.
 *
 * - `denyHosts`: host patterns refused before DNS — `example.com` (that host), `*.example.com` (any
 *   subdomain, not example.com itself), `.example.com` (example.com and every subdomain, Squid's dstdomain).
 * - `denyCidrs`: addresses refused after DNS. The default (src/config/options.ts) is 169.254.0.0/16 and
 *   fe80::/10 (link-local, where cloud metadata services live: 169.254.169.254 hands out credentials),
 *   plus the metadata addresses outside it: fd00:ec2::254 (AWS over IPv6), 100.100.100.200 (Alibaba),
 *   192.0.0.192 (Oracle). Private ranges are allowed by default on purpose: teams reach internal
 *   artifact servers through larder; add 10.0.0.0/8, ... to denyCidrs when clients are untrusted.
 * - The unspecified address (0.0.0.0/8, ::) is always refused: connecting to it reaches the local host
 *   and would slip past a loopback rule.
 * - The proxy's own listeners (proxy port and admin port, `ownPorts`) are never a destination, on any of
 *   the machine's addresses or names, whoever asks (`checkTarget`): otherwise any proxy client reaches
 *   the admin API, which trusts loopback callers.
 * - Loopback (127.0.0.0/8, ::1, localhost) is refused to clients that are not themselves on loopback,
 *   like Squid's `to_localhost`, unless `allowLocalhostDestinations` (`checkTarget`); a client on the same
 *   machine gains nothing it could not reach directly. A name that is not a localhost name but resolves
 *   to a loopback address is refused to everyone (at lookup, where the client is not known). The
 *   configured reverse upstream is the operator's choice and is exempt from the loopback rule.
 * - IPv6 forms that embed an IPv4 address (::ffff:169.254.169.254, NAT64 64:ff9b::a9fe:a9fe) are checked
 *   as that IPv4 address too; numeric IPv4 spellings (2852039166, 0xa9fea9fe, 0251.0376.0251.0376) are
 *   normalised the way the WHATWG URL parser and getaddrinfo read them.
 *
 * The address check runs inside the DNS lookup the connection itself uses (`lookup` for undici,
 * `resolveForConnect` for CONNECT tunnels), so the name cannot resolve to one address for the check and
 * another for the connection (DNS rebinding). Node does not call `lookup` for IP literals, so callers
 * must also run `checkTarget` (or `checkHost`) on every destination.
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import { domainToASCII } from 'node:url';
import { hostname as machineName, networkInterfaces } from 'node:os';
import { ConfigError } from '../config/load.js';
import { addressInList, normalizeAddress, parseCidrList } from '../server/access.js';

export class DestinationDeniedError extends Error {
  readonly code = 'LARDER_DESTINATION_DENIED';
  constructor(message: string, readonly host: string, readonly rule: string, readonly address?: string) {
    super(message);
    this.name = 'DestinationDeniedError';
  }
}

/** Resolves a name to all its addresses (dns.lookup with all: true). */
export type Resolver = (hostname: string, options: { family: 0 | 4 | 6; hints?: number }) => Promise<LookupAddress[]>;

export type LookupCallback = (err: Error | null, address: string | LookupAddress[], family?: number) => void;

export interface DestinationPolicyOptions {
  denyHosts: string[];
  denyCidrs: string[];
  /** ports allowed for CONNECT: numbers, ranges `1000-2000`, or `*` */
  connectPorts: string[];
  /** name resolution, injectable for tests; default dns.lookup with all: true */
  resolve?: Resolver;
  /** let clients that are not on loopback reach the proxy host's loopback (default false, Squid's to_localhost) */
  allowLocalhostDestinations?: boolean;
  /** the proxy's own listening ports (proxy, admin), never a destination; a getter because they are bound later */
  ownPorts?: () => OwnPorts;
  /** host names exempt from the loopback rule at lookup (the configured reverse upstream) */
  exemptHosts?: string[];
}

export interface OwnPorts {
  proxy?: number;
  admin?: number;
}

export interface TargetContext {
  /** the destination is the configured reverse upstream (the operator's choice: exempt from the loopback rule) */
  configuredUpstream?: boolean;
}

interface CidrRule {
  text: string;
  list: BlockList;
}

type HostPattern = { kind: 'exact' | 'subdomains' | 'domain'; name: string; text: string };

const UNSPECIFIED: CidrRule = { text: 'the unspecified address (0.0.0.0/8, ::)', list: parseCidrList(['0.0.0.0/8', '::/128'], 'builtin') };
const LOOPBACK = parseCidrList(['127.0.0.0/8', '::1/128'], 'builtin');

/** RFC 6761 §6.3 localhost names, and the usual /etc/hosts aliases of ::1. */
function isLocalhostName(h: string): boolean {
  return h === 'localhost' || h.endsWith('.localhost') || h === 'localhost.localdomain' || h === 'ip6-localhost' || h === 'ip6-loopback';
}

/** True for a loopback client address (127.0.0.0/8, ::1, IPv4-mapped forms). */
export function isLoopbackClient(address: string | undefined): boolean {
  return address !== undefined && addressInList(LOOPBACK, address);
}

const defaultResolve: Resolver = (hostname, options) =>
  dnsLookup(hostname, { all: true, family: options.family, ...(options.hints !== undefined ? { hints: options.hints } : {}) });

export class DestinationPolicy {
  private readonly hostPatterns: HostPattern[];
  private readonly cidrRules: CidrRule[];
  private readonly ports: { from: number; to: number }[];
  private readonly resolve: Resolver;
  private readonly allowLocalhost: boolean;
  private readonly ownPorts: () => OwnPorts;
  private readonly exemptHosts: Set<string>;
  /** this machine's names and interface addresses, read at construction */
  private readonly localAddresses: Set<string>;
  private readonly localNames: Set<string>;

  /** Throws a ConfigError naming the key for a bad CIDR or port entry. */
  constructor(opts: DestinationPolicyOptions) {
    this.hostPatterns = opts.denyHosts.map(parseHostPattern).filter((p): p is HostPattern => p !== undefined);
    this.cidrRules = [UNSPECIFIED, ...opts.denyCidrs.map((text) => ({ text, list: parseCidrList([text], 'denyCidrs') }))];
    this.ports = opts.connectPorts.map(parsePortRange);
    this.resolve = opts.resolve ?? defaultResolve;
    this.allowLocalhost = opts.allowLocalhostDestinations === true;
    this.ownPorts = opts.ownPorts ?? (() => ({}));
    this.exemptHosts = new Set((opts.exemptHosts ?? []).map(normalizeHost));
    this.localAddresses = new Set();
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) {
        const n = literalAddress(normalizeHost(a.address));
        if (n !== undefined) this.localAddresses.add(canonicalAddress(n));
      }
    }
    const name = normalizeHost(machineName());
    this.localNames = new Set(name ? [name] : []);
  }

  /**
   * Every per-request destination rule, for a request from `clientAddress` to host:port (name or IP
   * literal): the deny lists (`checkHost`), the proxy's own listeners, and the loopback rule. Returns
   * the reason to refuse, or undefined. Runs before DNS; the lookup adds the address rules after it.
   */
  checkTarget(host: string, port: number, clientAddress: string | undefined, ctx: TargetContext = {}): string | undefined {
    const denied = this.checkHost(host);
    if (denied !== undefined) return denied;
    const h = normalizeHost(host);
    const ip = literalAddress(h);
    // this machine's own name counts as loopback (Debian maps it to 127.0.1.1, and the lookup lets it through)
    const loopback = ip !== undefined ? addressInList(LOOPBACK, ip) : isLocalhostName(h) || this.localNames.has(h);
    const local = loopback || (ip !== undefined && this.localAddresses.has(canonicalAddress(ip)));
    if (local) {
      const own = this.ownPorts();
      const which = port === own.proxy ? 'proxy' : port === own.admin ? 'admin' : undefined;
      if (which) return `destination ${host}:${port} is this proxy's own ${which} listener`;
    }
    if (loopback && !this.allowLocalhost && !ctx.configuredUpstream && !isLoopbackClient(clientAddress)) {
      return `destination ${host} is the proxy host's loopback, refused to clients not on this machine (allowLocalhostDestinations)`;
    }
    return undefined;
  }

  /**
   * Check a destination host (name or IP literal, with or without [brackets]) before DNS.
   * Returns the reason to refuse, or undefined. Never throws.
   */
  checkHost(host: string): string | undefined {
    const h = normalizeHost(host);
    if (h === '') return 'empty destination host';
    const ip = literalAddress(h);
    if (ip !== undefined) {
      const reason = this.checkAddress(ip);
      if (reason !== undefined) return reason;
    }
    const ascii = ip ?? (domainToASCII(h) || h);
    for (const p of this.hostPatterns) {
      if (matchesPattern(p, ascii)) return `destination host ${ascii} matches denied pattern ${p.text} (denyHosts)`;
    }
    return undefined;
  }

  /** The reason an address is refused, or undefined. */
  checkAddress(address: string): string | undefined {
    for (const rule of this.cidrRules) {
      if (addressInList(rule.list, address)) {
        return rule === UNSPECIFIED
          ? `destination address ${address} is ${rule.text}`
          : `destination address ${address} is in denied range ${rule.text} (denyCidrs)`;
      }
    }
    return undefined;
  }

  portAllowedForConnect(port: number): boolean {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
    return this.ports.some((r) => port >= r.from && port <= r.to);
  }

  /**
   * dns.lookup-compatible function for undici's `connect: { lookup }` (net.connect's `lookup` option).
   * Resolves, then refuses with a DestinationDeniedError when any resolved address is denied (a name
   * with one denied address is refused whole rather than filtered: mixing records is how rebinding
   * attacks are staged).
   */
  readonly lookup = (hostname: string, options: object, callback: LookupCallback): void => {
    const opts = options as { family?: number | string; hints?: number; all?: boolean };
    const fail = (err: Error): void => callback(err, opts.all ? [] : '', 0);
    const family = familyOf(opts.family);
    this.resolveChecked(hostname, family, opts.hints).then(
      (addresses) => {
        if (opts.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: Error) => fail(err),
    );
  };

  /**
   * The same checks for a CONNECT tunnel: host rules, the port, then resolution and the address rules.
   * Returns the address to connect to (connect to exactly this one), or throws a DestinationDeniedError
   * (or the DNS error).
   */
  async resolveForConnect(host: string, port: number): Promise<{ address: string; family: number }> {
    const reason = this.checkHost(host);
    if (reason !== undefined) throw new DestinationDeniedError(reason, host, 'destination');
    if (!this.portAllowedForConnect(port)) {
      throw new DestinationDeniedError(`CONNECT to port ${port} is not allowed (connectPorts)`, host, 'connectPorts');
    }
    const h = normalizeHost(host);
    const ip = literalAddress(h);
    if (ip !== undefined) return { address: ip, family: isIP(ip) };
    const [first] = await this.resolveChecked(h, 0, undefined);
    return { address: first!.address, family: first!.family };
  }

  private async resolveChecked(hostname: string, family: 0 | 4 | 6, hints: number | undefined): Promise<LookupAddress[]> {
    const hostReason = this.checkHost(hostname);
    if (hostReason !== undefined) throw new DestinationDeniedError(hostReason, hostname, 'denyHosts');
    const addresses = await this.resolve(hostname, { family, ...(hints !== undefined ? { hints } : {}) });
    if (addresses.length === 0) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
    }
    for (const a of addresses) {
      const reason = this.checkAddress(a.address) ?? this.loopbackByName(hostname, a.address);
      if (reason !== undefined) {
        throw new DestinationDeniedError(`${hostname} resolves to ${a.address}: ${reason}`, hostname, 'denyCidrs', a.address);
      }
    }
    return addresses;
  }

  /**
   * At lookup the client is unknown, and one upstream connection serves many clients: a name that is not
   * a localhost name (nor this machine's name, nor the configured upstream) but resolves to loopback is
   * refused to everyone, so "evil.example A 127.0.0.1" cannot reach the proxy host's loopback services.
   */
  private loopbackByName(hostname: string, address: string): string | undefined {
    if (this.allowLocalhost || !addressInList(LOOPBACK, address)) return undefined;
    const h = normalizeHost(hostname);
    if (isLocalhostName(h) || this.localNames.has(h) || this.exemptHosts.has(h)) return undefined;
    return 'a loopback address, reached only through a localhost name (allowLocalhostDestinations)';
  }
}

/** The address in one spelling (IPv4-mapped as IPv4, IPv6 lower-case) for set lookups. */
function canonicalAddress(ip: string): string {
  return normalizeAddress(ip)?.address ?? ip;
}

function familyOf(f: number | string | undefined): 0 | 4 | 6 {
  if (f === 4 || f === 'IPv4') return 4;
  if (f === 6 || f === 'IPv6') return 6;
  return 0;
}

/** Lower-case, without [brackets], surrounding space and trailing dots. */
function normalizeHost(host: string): string {
  let h = String(host).trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h.replace(/\.+$/, '');
}

/**
 * The IP address a host string denotes, or undefined when it is a name. Accepts IPv6 (zone id kept out
 * of the check) and the numeric IPv4 spellings getaddrinfo/inet_aton and the URL parser accept.
 */
function literalAddress(h: string): string | undefined {
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

function parseHostPattern(raw: string): HostPattern | undefined {
  const text = raw.trim();
  const lower = normalizeHost(text);
  if (lower === '') return undefined;
  const ascii = (s: string): string => domainToASCII(s) || s;
  if (lower.startsWith('*.')) return { kind: 'subdomains', name: ascii(lower.slice(2)), text };
  if (lower.startsWith('.')) return { kind: 'domain', name: ascii(lower.slice(1)), text };
  return { kind: 'exact', name: literalAddress(lower) ?? ascii(lower), text };
}

function matchesPattern(p: HostPattern, host: string): boolean {
  switch (p.kind) {
    case 'exact':
      return host === p.name;
    case 'subdomains':
      return host.endsWith(`.${p.name}`);
    case 'domain':
      return host === p.name || host.endsWith(`.${p.name}`);
  }
}

function parsePortRange(raw: string): { from: number; to: number } {
  const s = raw.trim();
  if (s === '*') return { from: 1, to: 65535 };
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(s);
  const from = m ? Number(m[1]) : NaN;
  const to = m && m[2] !== undefined ? Number(m[2]) : from;
  if (!m || from < 1 || to > 65535 || from > to) {
    throw new ConfigError(`connectPorts: expected port numbers or ranges (443,8443,1000-2000) or *, got ${JSON.stringify(raw)}`);
  }
  return { from, to };
}
