/**
 * Vary: secondary cache keys. https://www.rfc-editor.org/rfc/rfc9111#section-4.1
 */
import { createHash } from 'node:crypto';
import type { Headers } from './cache-control.js';

/** Lower-cased, de-duplicated field names listed in Vary; '*' when any member is "*". */
export function varyFieldNames(res: Headers | [string, string][]): string[] | '*' {
  const values: string[] = [];
  if (Array.isArray(res)) {
    for (const [name, value] of res) if (name.toLowerCase() === 'vary') values.push(value);
  } else {
    const v = res['vary'];
    if (Array.isArray(v)) values.push(...v);
    else if (v !== undefined) values.push(v);
  }
  const out: string[] = [];
  for (const value of values) {
    for (const part of value.split(',')) {
      const name = part.trim().toLowerCase();
      if (name === '') continue;
      if (name === '*') return '*';
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** Fields whose members are an unordered, case-insensitive set of weighted tokens (RFC 9110 §12.5.3, §12.5.4). */
const WEIGHTED_SETS = new Set(['accept-language', 'accept-encoding']);

/**
 * One member of Accept-Language / Accept-Encoding in a canonical form: lower-cased (language ranges and codings
 * are case-insensitive: RFC 4647 §2, RFC 9110 §8.4.1), no whitespace around ";" and "=", and a weight of 1
 * ("q=1", "q=1.0", "q=1.000") dropped, since it is the default (RFC 9110 §12.4.2).
 */
function canonicalMember(m: string): string {
  return m.toLowerCase().replace(/\s*;\s*/g, ';').replace(/\s*=\s*/g, '=').replace(/;q=1(\.0{0,3})?(?=;|$)/, '');
}

/**
 * The request's value of a Vary-selected field, normalised so that semantically equal forms compare equal
 * (https://www.rfc-editor.org/rfc/rfc9111#section-4.1 allows normalising whitespace, combining field lines
 * and list order where the field's semantics permit): lines combined with ", ", whitespace around commas
 * and at the ends collapsed. Accept-Language and Accept-Encoding are sets of weighted members whose order
 * carries no meaning (the weights do: RFC 9110 §12.4.2, §12.5.3, §12.5.4), so their members are put in
 * canonical form and sorted: "en-US, fr" and "fr, en-us" select the same variant. Absent → null (different
 * from present-but-empty "").
 */
export function normaliseFieldValue(name: string, req: Headers): string | null {
  const lower = name.toLowerCase();
  const raw = req[lower];
  if (raw === undefined) return null;
  const joined = Array.isArray(raw) ? raw.join(',') : raw;
  const members = joined.split(',').map((m) => m.trim().replace(/[ \t]+/g, ' '));
  if (WEIGHTED_SETS.has(lower)) {
    return [...new Set(members.filter((m) => m !== '').map(canonicalMember))].sort().join(', ');
  }
  return members.join(', ');
}

/**
 * A short id for one variant: '' when the response has no Vary, else a digest of the names and values.
 * JSON framing keeps [a], [null], ["a,b"] and ["a","b"] apart; 128 bits of sha256 make accidental
 * collisions negligible.
 */
export function variantId(names: string[], values: (string | null)[]): string {
  if (names.length === 0) return '';
  return createHash('sha256').update(JSON.stringify([names, values])).digest('base64url').slice(0, 22);
}

/** Does a stored variant match the request? https://www.rfc-editor.org/rfc/rfc9111#section-4.1 */
export function variantMatches(meta: { vary: string[]; varyValues: (string | null)[] }, req: Headers): boolean {
  for (let i = 0; i < meta.vary.length; i++) {
    const name = meta.vary[i]!;
    if (name === '*') return false; // Vary: * always fails to match
    if (normaliseFieldValue(name, req) !== (meta.varyValues[i] ?? null)) return false;
  }
  return true;
}
