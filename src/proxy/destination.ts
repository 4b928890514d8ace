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
import { type BlockList, isIP } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { hostname as machineName, networkInterfaces } from 'node:os';
import { addressInList, canonicalAddress, isLoopbackAddress, literalAddress, parseCidrList, reachesLoopback } from '../net/address.js';
import { isLocalhostName, normalizeHost } from '../net/host.js';
import { firstMatchingPattern, hostKey, parseHostPatterns, type HostPattern } from '../net/host-pattern.js';
import { parsePortRanges, portInRanges, type PortRange } from '../net/ports.js';
import { systemLookup, type HostLookup } from '../net/resolve.js';
import { DestinationDeniedError } from '../errors.js';

/** Resolves a name to all its addresses (dns.lookup with all: true). */
export type Resolver = HostLookup;

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

const UNSPECIFIED: CidrRule = { text: 'the unspecified address (0.0.0.0/8, ::)', list: parseCidrList(['0.0.0.0/8', '::/128'], 'builtin') };

export class DestinationPolicy {
  private readonly hostPatterns: HostPattern[];
  private readonly cidrRules: CidrRule[];
  private readonly ports: PortRange[];
  private readonly resolve: Resolver;
  private readonly allowLocalhost: boolean;
  private readonly ownPorts: () => OwnPorts;
  private readonly exemptHosts: Set<string>;
  /** this machine's names and interface addresses, read at construction */
  private readonly localAddresses: Set<string>;
  private readonly localNames: Set<string>;

  /** Throws a ConfigError naming the key for a bad CIDR or port entry. */
  constructor(opts: DestinationPolicyOptions) {
    this.hostPatterns = parseHostPatterns(opts.denyHosts);
    this.cidrRules = [UNSPECIFIED, ...opts.denyCidrs.map((text) => ({ text, list: parseCidrList([text], 'denyCidrs') }))];
    this.ports = parsePortRanges(opts.connectPorts, 'connectPorts');
    this.resolve = opts.resolve ?? systemLookup;
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
    const loopback = ip !== undefined ? reachesLoopback(ip) : isLocalhostName(h) || this.localNames.has(h);
    const local = loopback || (ip !== undefined && this.localAddresses.has(canonicalAddress(ip)));
    if (local) {
      const own = this.ownPorts();
      const which = port === own.proxy ? 'proxy' : port === own.admin ? 'admin' : undefined;
      if (which) return `destination ${host}:${port} is this proxy's own ${which} listener`;
    }
    if (loopback && !this.allowLocalhost && !ctx.configuredUpstream && !isLoopbackAddress(clientAddress)) {
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
    const p = firstMatchingPattern(this.hostPatterns, h);
    return p ? `destination host ${hostKey(h)} matches denied pattern ${p.text} (denyHosts)` : undefined;
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
    return portInRanges(port, this.ports);
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
    if (this.allowLocalhost || !reachesLoopback(address)) return undefined;
    const h = normalizeHost(hostname);
    if (isLocalhostName(h) || this.localNames.has(h) || this.exemptHosts.has(h)) return undefined;
    return 'a loopback address, reached only through a localhost name (allowLocalhostDestinations)';
  }
}

function familyOf(f: number | string | undefined): 0 | 4 | 6 {
  if (f === 4 || f === 'IPv4') return 4;
  if (f === 6 || f === 'IPv6') return 6;
  return 0;
}
