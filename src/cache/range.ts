/**
 * Range requests served from a stored complete response. https://www.rfc-editor.org/rfc/rfc9110#section-14
 */
import { randomBytes } from 'node:crypto';
import { parseEntityTag, strongMatch } from './conditional.js';
import { parseHttpDate } from './http-date.js';

export type RangeSpec = { start: number; end: number };
export type RangeResult = { kind: 'none' } | { kind: 'ranges'; ranges: RangeSpec[] } | { kind: 'unsatisfiable' } | { kind: 'ignore' };

/**
 * More range specs than this → the Range header is ignored and the full 200 is served, which
 * https://www.rfc-editor.org/rfc/rfc9110#section-14.2 permits ("a server MAY ignore the Range header field")
 * and which defeats many-small-ranges amplification attacks.
 */
export const MAX_RANGES = 16;

const SPEC = /^(\d*)-(\d*)$/;

/**
 * Parses a Range header against a representation of `size` bytes.
 * - absent → none; not "bytes" (case-insensitive unit, §14.1) or malformed → ignore (serve 200);
 * - each spec resolved: "a-b" (end clamped to size-1), "a-" (to the end), "-n" (last n bytes);
 * - specs that start at or beyond the end are unsatisfiable; when none is satisfiable → unsatisfiable (416);
 * - overlapping or adjacent ranges are coalesced and sorted (§14.2 allows it);
 * - more than MAX_RANGES specs → ignore.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'none' };
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'ignore' };
  const specs = header.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length === 0 || specs.length > MAX_RANGES) return { kind: 'ignore' };
  const ranges: RangeSpec[] = [];
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (!m) return { kind: 'ignore' };
    const [, first, last] = m as unknown as [string, string, string];
    if (first === '' && last === '') return { kind: 'ignore' };
    if (first === '') {
      // suffix-range: the last n bytes (https://www.rfc-editor.org/rfc/rfc9110#section-14.1.2)
      const n = Number(last);
      if (n === 0 || size === 0) continue; // unsatisfiable
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(first);
    const end = last === '' ? Infinity : Number(last);
    if (end < start) return { kind: 'ignore' }; // invalid: last-pos < first-pos
    if (start >= size) continue; // unsatisfiable: starts beyond the representation
    ranges.push({ start, end: Math.min(end, size - 1) });
  }
  if (ranges.length === 0) return { kind: 'unsatisfiable' };
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

function coalesce(ranges: RangeSpec[]): RangeSpec[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const out: RangeSpec[] = [{ ...sorted[0]! }];
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i]!;
    const last = out[out.length - 1]!;
    if (r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

function storedValue(stored: readonly [string, string][], name: string): string | undefined {
  for (const [n, v] of stored) if (n.toLowerCase() === name) return v;
  return undefined;
}

/**
 * If-Range (https://www.rfc-editor.org/rfc/rfc9110#section-13.1.5): true when the range may be served.
 * An entity-tag must match the stored ETag by strong comparison; a date must equal the stored
 * Last-Modified exactly, and that Last-Modified must be strong (§8.8.2.2: at least one second before the
 * stored Date). Anything else (no match, invalid value) → false: serve the full 200.
 */
export function ifRangeAllows(ifRange: string | undefined, stored: [string, string][]): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) {
    const wanted = parseEntityTag(value);
    const have = parseEntityTag(storedValue(stored, 'etag'));
    return wanted !== undefined && have !== undefined && strongMatch(wanted, have);
  }
  const date = parseHttpDate(value);
  const lastModified = parseHttpDate(storedValue(stored, 'last-modified'));
  const dateField = parseHttpDate(storedValue(stored, 'date'));
  if (date === undefined || lastModified === undefined || dateField === undefined) return false;
  return date === lastModified && dateField - lastModified >= 1000;
}

/** Content-Range for one part: "bytes 0-99/1000" (https://www.rfc-editor.org/rfc/rfc9110#section-14.4). */
export function contentRange(r: RangeSpec, size: number): string {
  return `bytes ${r.start}-${r.end}/${size}`;
}

/**
 * The framing of a multipart/byteranges body (https://www.rfc-editor.org/rfc/rfc9110#section-14.6):
 * write each part's head followed by the bytes of its range, then the tail. `length` is the total body
 * length (for Content-Length). The response Content-Type is `multipart/byteranges; boundary=<boundary>`.
 */
export function multipartByteranges(ranges: RangeSpec[], size: number, contentType: string | undefined):
  { boundary: string; parts: { head: Buffer; range: RangeSpec }[]; tail: Buffer; length: number } {
  const boundary = randomBytes(12).toString('hex');
  let length = 0;
  const parts = ranges.map((range) => {
    const lines = [`\r\n--${boundary}`];
    if (contentType !== undefined) lines.push(`Content-Type: ${contentType}`);
    lines.push(`Content-Range: ${contentRange(range, size)}`, '', '');
    const head = Buffer.from(lines.join('\r\n'), 'latin1');
    length += head.length + (range.end - range.start + 1);
    return { head, range };
  });
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  length += tail.length;
  return { boundary, parts, tail, length };
}
