/**
 * Cache-Control parsing and the small header-access helpers the cache modules share.
 * https://www.rfc-editor.org/rfc/rfc9111#section-5.2
 */

/** Header fields as Node's IncomingHttpHeaders holds them: lower-case names. */
export type Headers = Record<string, string | string[] | undefined>;

/** Parsed Cache-Control: lower-cased directive name → argument (unquoted) or `true` when it has none. */
export type Directives = Map<string, string | true>;

/** One raw member of a Cache-Control list, in field order. */
interface Member {
  name: string;
  value: string | true;
}

/**
 * Directives whose presence makes the cache more careful. A malformed member that still names one of them
 * (e.g. `no-store;`, `private"`) is read as that directive: when in doubt, the most restrictive reading wins
 * (https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1 "the most restrictive directive should be honored").
 */
const RESTRICTIVE = ['no-store', 'no-cache', 'private', 'must-revalidate', 'proxy-revalidate'];

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/** Splits a list on commas that are not inside a quoted-string. */
function splitList(v: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') {
      inQuote = true;
    } else if (c === ',') {
      out.push(v.slice(start, i));
      start = i + 1;
    }
  }
  out.push(v.slice(start));
  return out;
}

/** Reads a quoted-string starting at s[0] === '"'; backslash escapes removed. Unterminated: to the end. */
function unquote(s: string): string {
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) out += s[++i];
    else if (c === '"') break;
    else out += c;
  }
  return out;
}

function parseMember(raw: string): Member | undefined {
  const text = raw.trim();
  if (text === '') return undefined; // empty list members are allowed and ignored (RFC 9110 §5.6.1)
  const eq = text.indexOf('=');
  const rawName = eq === -1 ? text : text.slice(0, eq);
  const name = rawName.trim().toLowerCase();
  if (!TOKEN.test(name)) {
    const restrictive = RESTRICTIVE.find((d) => name.startsWith(d));
    return restrictive ? { name: restrictive, value: true } : undefined;
  }
  if (eq === -1) return { name, value: true };
  let value = text.slice(eq + 1);
  // The grammar has no whitespace around "=" (https://www.rfc-editor.org/rfc/rfc9111#section-5.2):
  // "max-age = 5" keeps its whitespace so that deltaSeconds() rejects it as invalid (→ stale).
  if (rawName !== rawName.trimEnd()) value = ' ' + value;
  if (value.startsWith('"')) value = unquote(value);
  return { name, value };
}

function members(v: string | string[] | undefined): Member[] {
  if (v === undefined) return [];
  const text = Array.isArray(v) ? v.join(',') : v;
  const out: Member[] = [];
  for (const raw of splitList(text)) {
    const m = parseMember(raw);
    if (m) out.push(m);
  }
  return out;
}

/**
 * Parses Cache-Control field value(s). Multiple field lines are combined as one list
 * (https://www.rfc-editor.org/rfc/rfc9110#section-5.3). Names are case-insensitive and lower-cased;
 * quoted-string arguments are unquoted (recipients accept both forms, RFC 9111 §5.2).
 * A directive that appears more than once keeps its first occurrence; see conflictingDirectives().
 */
export function parseCacheControl(v: string | string[] | undefined): Directives {
  const out: Directives = new Map();
  for (const m of members(v)) if (!out.has(m.name)) out.set(m.name, m.value);
  return out;
}

/**
 * Names of directives that appear more than once with different arguments.
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1: with more than one value for a freshness directive,
 * "either the first occurrence should be used or the response should be considered stale" — the policy
 * considers such a response stale.
 */
export function conflictingDirectives(v: string | string[] | undefined): Set<string> {
  const seen = new Map<string, string | true>();
  const out = new Set<string>();
  for (const m of members(v)) {
    const first = seen.get(m.name);
    if (first === undefined) seen.set(m.name, m.value);
    else if (first !== m.value) out.add(m.name);
  }
  return out;
}

/** 2^31: https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2 — larger values are sent as this. */
export const MAX_DELTA_SECONDS = 2147483648;

/**
 * delta-seconds = 1*DIGIT (https://www.rfc-editor.org/rfc/rfc9111#section-1.2.2).
 * Anything but digits ("1.5", "-1", "", "1a", " 1") → undefined; values above 2^31 → 2^31.
 */
export function deltaSeconds(v: string | true | undefined): number | undefined {
  if (typeof v !== 'string' || !/^[0-9]+$/.test(v)) return undefined;
  const n = Number(v);
  return n > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : n;
}

/** The field names of a qualified no-cache="a, b" / private="x", lower-cased; [] when unqualified. */
export function fieldNames(v: string | true | undefined): string[] {
  if (typeof v !== 'string') return [];
  const out: string[] = [];
  for (const part of v.split(',')) {
    const name = part.trim().toLowerCase();
    if (name !== '' && !out.includes(name)) out.push(name);
  }
  return out;
}

/** The first value of a field (for singleton fields such as Date, Expires, Age, ETag). */
export function firstValue(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** All values of a list-based field joined with ", " (RFC 9110 §5.3); undefined when absent. */
export function joinedValue(h: Headers, name: string): string | undefined {
  const v = h[name];
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.join(', ');
  return v;
}

/** Stored header pairs ([name as received, value]) as a Headers record; repeated fields become arrays. */
export function storedToHeaders(stored: readonly (readonly [string, string])[]): Headers {
  const out: Record<string, string | string[]> = {};
  for (const [rawName, value] of stored) {
    const name = rawName.toLowerCase();
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}

// ---- targeted cache-control fields (RFC 9213) --------------------------------------------------------------

/** The generic targeted field, meant for every CDN cache on the way (https://www.rfc-editor.org/rfc/rfc9213#section-3.1). */
export const GENERIC_TARGETED_FIELD = 'cdn-cache-control';

const SF_KEY = /^[a-z*][a-z0-9_\-.*]*/;
const SF_TOKEN = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/;
const SF_DECIMAL = /^-?[0-9]{1,12}\.[0-9]{1,3}/;
const SF_INTEGER = /^-?[0-9]{1,15}/;
const SF_BINARY = /^:[A-Za-z0-9+/=]*:/;

/** One RFC 8941 bare item at the start of `s`: [value, rest], or undefined when it is not one. */
function bareItem(s: string): [string | boolean, string] | undefined {
  const c = s[0];
  if (c === '"') {
    let out = '';
    for (let i = 1; i < s.length; i++) {
      const ch = s[i]!;
      if (ch === '\\') {
        const next = s[i + 1];
        if (next !== '"' && next !== '\\') return undefined;
        out += next;
        i++;
      } else if (ch === '"') {
        return [out, s.slice(i + 1)];
      } else {
        const code = ch.charCodeAt(0);
        if (code < 0x20 || code > 0x7e) return undefined;
        out += ch;
      }
    }
    return undefined; // unterminated
  }
  if (c === '?') {
    if (s[1] === '1') return [true, s.slice(2)];
    if (s[1] === '0') return [false, s.slice(2)];
    return undefined;
  }
  for (const re of [SF_DECIMAL, SF_INTEGER, SF_TOKEN, SF_BINARY]) {
    const m = re.exec(s);
    if (m) return [m[0], s.slice(m[0].length)];
  }
  return undefined;
}

/** Skips RFC 8941 parameters (`;key[=item]`); undefined when malformed. */
function skipParameters(s: string): string | undefined {
  while (s.startsWith(';')) {
    s = s.slice(1).replace(/^ +/, '');
    const k = SF_KEY.exec(s);
    if (!k) return undefined;
    s = s.slice(k[0].length);
    if (s.startsWith('=')) {
      const item = bareItem(s.slice(1));
      if (!item) return undefined;
      s = item[1];
    }
  }
  return s;
}

/**
 * Parses a targeted cache-control field (https://www.rfc-editor.org/rfc/rfc9213#section-2.1): an RFC 8941
 * Dictionary whose keys are cache directives. Several field lines are one list (RFC 8941 §4.2). Returns the
 * directives like parseCacheControl() does (a boolean true member → `true`, false → left out, other values as
 * their text), or undefined when the field is absent, empty or not a valid Dictionary: "If a targeted field
 * in a given response is empty, or a parsing error is encountered, that field SHOULD be ignored by the cache"
 * (§2.1). A key repeated later replaces the earlier one (RFC 8941 §3.2).
 */
export function parseTargetedField(v: string | string[] | undefined): Directives | undefined {
  if (v === undefined) return undefined;
  let s = (Array.isArray(v) ? v.join(', ') : v).replace(/^[ \t]+|[ \t]+$/g, '');
  if (s === '') return undefined;
  const out: Directives = new Map();
  for (;;) {
    const k = SF_KEY.exec(s);
    if (!k) return undefined;
    const key = k[0];
    s = s.slice(key.length);
    let value: string | boolean = true;
    if (s.startsWith('=')) {
      s = s.slice(1);
      if (s.startsWith('(')) {
        // an inner list: valid syntax, no meaning for a cache directive
        s = s.slice(1);
        for (;;) {
          s = s.replace(/^ +/, '');
          if (s.startsWith(')')) { s = s.slice(1); break; }
          const item = bareItem(s);
          if (!item) return undefined;
          const rest = skipParameters(item[1]);
          if (rest === undefined || !(rest.startsWith(' ') || rest.startsWith(')'))) return undefined;
          s = rest;
        }
      } else {
        const item = bareItem(s);
        if (!item) return undefined;
        [value, s] = item;
      }
    }
    const rest = skipParameters(s);
    if (rest === undefined) return undefined;
    s = rest;
    out.delete(key);
    if (value !== false) out.set(key, value);
    s = s.replace(/^[ \t]+/, '');
    if (s === '') return out;
    if (!s.startsWith(',')) return undefined;
    s = s.slice(1).replace(/^[ \t]+/, '');
    if (s === '') return undefined; // trailing comma
  }
}

/** A directive map written back as a Cache-Control field value (quoted where a value is not a token). */
function formatDirectives(d: Directives): string {
  const parts: string[] = [];
  for (const [name, value] of d) {
    if (value === true) parts.push(name);
    else if (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(value)) parts.push(`${name}=${value}`);
    else parts.push(`${name}="${value.replace(/["\\]/g, '\\$&')}"`);
  }
  return parts.join(', ');
}

/**
 * The response as larder's own caching sees it when a targeted field applies
 * (https://www.rfc-editor.org/rfc/rfc9213#section-2.2): "the cache MUST select the first (in target list
 * order) field with a valid value and use its value to determine the caching policy for the response, and
 * it MUST ignore the Cache-Control and Expires header fields in that response, unless no valid targeted
 * field is present". s-maxage in a targeted field is dropped: the field already addresses this cache, its
 * max-age is the lifetime (and s-maxage would imply proxy-revalidate). `targets` are lower-case names; the
 * response's own header object is returned when none applies (or the list is empty).
 */
export function targetedResponse<T extends { headers: Headers }>(res: T, targets: readonly string[] | undefined): T {
  if (targets === undefined || targets.length === 0) return res;
  for (const name of targets) {
    const d = parseTargetedField(res.headers[name]);
    if (d === undefined) continue;
    d.delete('s-maxage');
    const headers: Headers = { ...res.headers, 'cache-control': formatDirectives(d) };
    delete headers['expires'];
    return { ...res, headers };
  }
  return res;
}

/** The targeted field names larder obeys in this mode: none in forward mode unless enabled (larder is not a CDN there). */
export function targetedNames(names: readonly string[], mode: string | undefined, inForward: boolean): string[] {
  if (mode !== 'reverse' && !inForward) return [];
  return names.map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
}

/** Configured targeted fields that name larder alone: removed from responses sent downstream (RFC 9213 §2.1). */
export function privateTargetedNames(names: readonly string[]): Set<string> {
  return new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== '' && n !== GENERIC_TARGETED_FIELD));
}
