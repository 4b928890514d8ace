/**
 * Validation: conditional requests the cache sends upstream, 304 handling, and evaluation of a client's
 * own preconditions against a stored response.
 * https://www.rfc-editor.org/rfc/rfc9111#section-4.3 and https://www.rfc-editor.org/rfc/rfc9110#section-13
 */
import { firstValue, joinedValue, parseCacheControl, storedToHeaders, type Headers } from './cache-control.js';
import { parseHttpDate } from './http-date.js';

export interface EntityTag { weak: boolean; opaque: string }

const UNQUOTED = /^[!#-+\--~\x80-\xff]+$/; // etagc without '"' and ',' (and no whitespace)

/**
 * Parses one entity-tag (`"x"` or `W/"x"`, https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3).
 * Leniency: an unquoted token (a common origin mistake) is kept as an opaque tag of its own, so it compares
 * equal only to the same unquoted token, never to the quoted form. Empty or garbage → undefined.
 */
export function parseEntityTag(v: string | undefined): EntityTag | undefined {
  if (v === undefined) return undefined;
  const s = v.trim();
  const weak = s.startsWith('W/');
  const tag = weak ? s.slice(2) : s;
  if (tag.startsWith('"')) {
    if (tag.length < 2 || !tag.endsWith('"') || tag.indexOf('"', 1) !== tag.length - 1) return undefined;
    return { weak, opaque: tag };
  }
  return UNQUOTED.test(tag) ? { weak, opaque: tag } : undefined;
}

/** Parses an entity-tag list (If-None-Match / If-Match); '*' when the value is "*". Invalid members are skipped. */
export function parseEntityTagList(v: string | undefined): EntityTag[] | '*' {
  if (v === undefined) return [];
  if (v.trim() === '*') return '*';
  const out: EntityTag[] = [];
  let i = 0;
  while (i < v.length) {
    // one member: up to the next comma outside a quoted opaque-tag
    let j = i;
    let inQuote = false;
    while (j < v.length && (inQuote || v[j] !== ',')) {
      if (v[j] === '"') inQuote = !inQuote;
      j++;
    }
    const tag = parseEntityTag(v.slice(i, j));
    if (tag) out.push(tag);
    i = j + 1;
  }
  return out;
}

/** https://www.rfc-editor.org/rfc/rfc9110#section-8.8.3.2 */
export function strongMatch(a: EntityTag, b: EntityTag): boolean {
  return !a.weak && !b.weak && a.opaque === b.opaque;
}
export function weakMatch(a: EntityTag, b: EntityTag): boolean {
  return a.opaque === b.opaque;
}

function storedValue(stored: readonly [string, string][], name: string): string | undefined {
  for (const [n, v] of stored) if (n.toLowerCase() === name) return v;
  return undefined;
}

/**
 * Validators for a conditional request that revalidates a stored response
 * (https://www.rfc-editor.org/rfc/rfc9111#section-4.3.1): If-None-Match from its ETag, If-Modified-Since
 * from its Last-Modified (never from Date). Keys lower-case.
 */
export function validatorsFor(stored: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  // the stored ETag is sent back as received, even when malformed: the origin made it and may recognise it
  const etag = storedValue(stored, 'etag')?.trim();
  if (etag) out['if-none-match'] = etag;
  const lm = storedValue(stored, 'last-modified');
  if (lm !== undefined && parseHttpDate(lm) !== undefined) out['if-modified-since'] = lm.trim();
  return out;
}

/**
 * Does this 304 refresh the stored response? https://www.rfc-editor.org/rfc/rfc9111#section-4.3.4
 * - the 304 has a strong ETag: only a stored response with the same strong ETag;
 * - it has a weak ETag: a stored response whose ETag matches weakly;
 * - no ETag but Last-Modified: a stored response with the same Last-Modified date;
 * - no validator at all: the engine revalidates one stored response at a time with that response's own
 *   validators, so the 304 answers that request and refers to it (RFC 9111 lets a single stored response
 *   without validators be updated; we extend that to the response we actually asked about).
 */
export function selectedBy304(stored: [string, string][], res304: Headers): boolean {
  const newTag = parseEntityTag(firstValue(res304, 'etag'));
  const oldTag = parseEntityTag(storedValue(stored, 'etag'));
  if (newTag) {
    if (!oldTag) return false;
    return newTag.weak ? weakMatch(newTag, oldTag) : strongMatch(newTag, oldTag);
  }
  const newLm = parseHttpDate(firstValue(res304, 'last-modified'));
  if (newLm !== undefined) {
    const oldLm = parseHttpDate(storedValue(stored, 'last-modified'));
    return oldLm !== undefined && oldLm === newLm;
  }
  return true;
}

/** Fields never copied from a 304 onto the stored response (https://www.rfc-editor.org/rfc/rfc9111#section-3.2). */
const NOT_UPDATED = new Set([
  // https://www.rfc-editor.org/rfc/rfc9111#section-3.2: Content-Length is not updated
  'content-length',
  // hop-by-hop fields, removed before storage (§3.1, https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1)
  'connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'trailer',
  // fields specific to the proxy that forwarded the request (§3.1)
  'proxy-authenticate', 'proxy-authentication-info', 'proxy-authorization',
  // "automatically processed and removed by the implementation, such as Content-Range" (§3.2)
  'content-range',
]);

/**
 * The stored header fields updated with a 304's fields (https://www.rfc-editor.org/rfc/rfc9111#section-4.3.4,
 * §3.2): every field in the 304 replaces the stored field of the same name (all its lines), except
 * Content-Length, hop-by-hop fields (including those listed in the 304's Connection), proxy fields and
 * Content-Range. The stored body is kept byte for byte, so Content-Type / Content-Encoding updates are
 * taken as the origin sends them. A stored Age or Date is dropped when the 304 has none: the age of the
 * refreshed response is that of the 304 (makeStoredPolicy then measures from the response time; the
 * engine should add a Date to a stored response that lacks one, RFC 9110 §6.6.1).
 *
 * Set-Cookie in a 304 is addressed to the client whose request was validated: it is copied into the
 * stored response only when that response is explicitly shareable (Cache-Control: public, after the update)
 * or `shareSetCookie` is on — otherwise every later client would receive it (DESIGN invariant 6, the same
 * rule canStore() applies to a 200). The engine may add it to the validating client's own response.
 */
export function updateHeaders(stored: [string, string][], res304: Headers, opts: { shareSetCookie?: boolean } = {}): [string, string][] {
  const connection = (joinedValue(res304, 'connection') ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const updates = new Map<string, string[]>();
  for (const [name, value] of Object.entries(res304)) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_UPDATED.has(lower) || connection.includes(lower)) continue;
    updates.set(lower, Array.isArray(value) ? value : [value]);
  }
  if (updates.has('set-cookie') && !opts.shareSetCookie && !setCookieShareable(stored, updates)) updates.delete('set-cookie');
  // Age and Date describe the 304 now: stale ones from the stored response would make it look old
  if (!updates.has('age')) updates.set('age', []);
  if (!updates.has('date')) updates.set('date', []);
  const out: [string, string][] = [];
  const placed = new Set<string>();
  for (const [name, value] of stored) {
    const lower = name.toLowerCase();
    const replacement = updates.get(lower);
    if (replacement === undefined) {
      out.push([name, value]);
    } else if (!placed.has(lower)) {
      placed.add(lower);
      for (const v of replacement) out.push([name, v]);
    }
  }
  for (const [name, values] of updates) {
    if (placed.has(name)) continue;
    for (const v of values) out.push([name, v]);
  }
  return out;
}

/** Is the response, after the update, marked public (so a Set-Cookie in it may be shared)? */
function setCookieShareable(stored: [string, string][], updates: Map<string, string[]>): boolean {
  const cc = updates.get('cache-control') ?? stored.filter(([n]) => n.toLowerCase() === 'cache-control').map(([, v]) => v);
  return parseCacheControl(cc).has('public');
}

/**
 * Evaluates the client's own preconditions against a stored response, in the order of
 * https://www.rfc-editor.org/rfc/rfc9110#section-13.2.2. Only when the stored status is 2xx (§13.2.1:
 * preconditions are ignored when the response would not be 2xx). If-Range is handled with ranges.
 * If-Modified-Since falls back to the stored Date when there is no Last-Modified
 * (https://www.rfc-editor.org/rfc/rfc9111#section-4.3.2).
 */
export function evaluatePreconditions(method: string, req: Headers, stored: [string, string][], status: number): 'proceed' | 'not-modified' | 'precondition-failed' {
  if (status < 200 || status > 299) return 'proceed';
  const h = storedToHeaders(stored);
  const etag = parseEntityTag(firstValue(h, 'etag'));
  const lastModified = parseHttpDate(firstValue(h, 'last-modified'));
  const isGetOrHead = method === 'GET' || method === 'HEAD';

  // 1. If-Match: strong comparison (https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1)
  const ifMatch = joinedValue(req, 'if-match');
  if (ifMatch !== undefined) {
    const list = parseEntityTagList(ifMatch);
    if (list !== '*' && !(etag && list.some((t) => strongMatch(t, etag)))) return 'precondition-failed';
  } else {
    // 2. If-Unmodified-Since (https://www.rfc-editor.org/rfc/rfc9110#section-13.1.4): ignored when invalid
    // or when there is no Last-Modified
    const ius = parseHttpDate(firstValue(req, 'if-unmodified-since'));
    if (ius !== undefined && lastModified !== undefined && lastModified > ius) return 'precondition-failed';
  }
  // 3. If-None-Match: weak comparison (https://www.rfc-editor.org/rfc/rfc9110#section-13.1.2)
  const ifNoneMatch = joinedValue(req, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    const list = parseEntityTagList(ifNoneMatch);
    const matched = list === '*' || (etag !== undefined && list.some((t) => weakMatch(t, etag)));
    if (matched) return isGetOrHead ? 'not-modified' : 'precondition-failed';
    return 'proceed';
  }
  // 4. If-Modified-Since, GET/HEAD only, ignored when invalid or a list
  // (https://www.rfc-editor.org/rfc/rfc9110#section-13.1.3)
  if (isGetOrHead) {
    const imsRaw = req['if-modified-since'];
    if (typeof imsRaw === 'string') {
      const ims = parseHttpDate(imsRaw);
      const modified = lastModified ?? parseHttpDate(firstValue(h, 'date'));
      if (ims !== undefined && modified !== undefined && modified <= ims) return 'not-modified';
    }
  }
  return 'proceed';
}
