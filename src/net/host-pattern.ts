/**
 * Host patterns, as in denyHosts, interceptHosts and interceptSkip:
 * `example.com` (that host), `*.example.com` (any subdomain, not example.com itself), `.example.com`
 * (example.com and every subdomain, Squid's dstdomain) and `*` (every host). Case-insensitive, trailing
 * dots and [brackets] ignored; names compare in their ASCII (punycode) form and IPv4 literals in their
 * dotted form, so `bücher.example` matches `xn--bcher-kva.example` and `0x7f.1` matches `127.0.0.1`.
 */
import { domainToASCII } from 'node:url';
import { literalAddress } from './address.js';
import { normalizeHost } from './host.js';

export interface HostPattern {
  kind: 'exact' | 'subdomains' | 'domain' | 'any';
  /** the name compared (ASCII, or the address for an IP literal) */
  name: string;
  /** the pattern as written, for messages */
  text: string;
}

const ascii = (s: string): string => domainToASCII(s) || s;

/** The form a host is compared in: its IP address when it is a literal, else its ASCII name. */
export function hostKey(host: string): string {
  const h = normalizeHost(host);
  return literalAddress(h) ?? ascii(h);
}

/** Parse one pattern; undefined for an empty entry. */
export function parseHostPattern(raw: string): HostPattern | undefined {
  const text = raw.trim();
  const lower = normalizeHost(text);
  if (lower === '') return undefined;
  if (lower === '*') return { kind: 'any', name: '*', text };
  if (lower.startsWith('*.')) return { kind: 'subdomains', name: ascii(lower.slice(2)), text };
  if (lower.startsWith('.')) return { kind: 'domain', name: ascii(lower.slice(1)), text };
  return { kind: 'exact', name: literalAddress(lower) ?? ascii(lower), text };
}

/** Parse a list of patterns, dropping empty entries. */
export function parseHostPatterns(list: readonly string[]): HostPattern[] {
  return list.map(parseHostPattern).filter((p): p is HostPattern => p !== undefined);
}

/** Does a host key (see hostKey) match the pattern? */
export function matchesHostPattern(p: HostPattern, key: string): boolean {
  switch (p.kind) {
    case 'any':
      return true;
    case 'exact':
      return key === p.name;
    case 'subdomains':
      return key.endsWith(`.${p.name}`);
    case 'domain':
      return key === p.name || key.endsWith(`.${p.name}`);
  }
}

/** The first pattern of the list that `host` matches, or undefined. */
export function firstMatchingPattern(patterns: readonly HostPattern[], host: string): HostPattern | undefined {
  const key = hostKey(host);
  return patterns.find((p) => matchesHostPattern(p, key));
}
