/**
 * Header handling for a proxy (RFC 9110 §7.6): hop-by-hop fields, Via, X-Forwarded-For.
 * Headers travel as flat raw arrays ([name, value, name, value, ...]) so duplicates and order survive.
 */

/** RFC 9110 §7.6.1 hop-by-hop fields, plus the proxy's own credentials (never forwarded, never stored: RFC 9111 §3.1). */
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'proxy-authentication-info',
  'te', 'trailer', 'transfer-encoding', 'upgrade',
]);

/** Names listed in Connection header values (RFC 9110 §7.6.1: those fields are hop-by-hop too). */
export function connectionListed(raw: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const t = token.trim().toLowerCase();
      if (t) names.add(t);
    }
  }
  return names;
}

/** Remove hop-by-hop fields, the fields named by Connection, and any in `extra`, from a raw header array. */
export function stripHopByHop(raw: readonly string[], extra?: ReadonlySet<string>): string[] {
  const listed = connectionListed(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name) || extra?.has(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Header object (lower-case names, arrays for repeats) → pairs, hop-by-hop removed. */
export function objectToPairs(headers: Record<string, string | string[] | undefined>, drop?: ReadonlySet<string>): [string, string][] {
  const listed = new Set<string>();
  const conn = headers.connection;
  for (const v of Array.isArray(conn) ? conn : conn ? [conn] : []) {
    for (const t of v.split(',')) if (t.trim()) listed.add(t.trim().toLowerCase());
  }
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || drop?.has(lower)) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, value]);
  }
  return out;
}

export { pairsToObject, removeRaw } from '../cache/header-pairs.js';

export function getRaw(raw: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) found = found === undefined ? raw[i + 1]! : `${found}, ${raw[i + 1]!}`;
  }
  return found;
}

/** True when a Via value already names this proxy (a forwarding loop). */
export function viaNames(via: string | undefined, pseudonym: string): boolean {
  if (!via) return false;
  const p = pseudonym.toLowerCase();
  for (const entry of via.split(',')) {
    // entry: [protocol-name "/"] protocol-version RWS received-by [RWS comment]
    const parts = entry.trim().split(/\s+/);
    if (parts.length >= 2 && parts[1]!.toLowerCase() === p) return true;
  }
  return false;
}
