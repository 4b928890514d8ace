/**
 * Partial content in the cache (RFC 9111 §3.3 storing incomplete responses, §3.4 combining them).
 * Pure functions: what part a stored 206 holds, whether stored parts share a validator and may be combined,
 * how a range request is answered from them (a stored part covers it; the parts add up to the whole; or only
 * the missing tail is asked of the origin), and the head of the combined response.
 *
 * Store side: a stored 206 is an ordinary entry in its own slot, its variant id being the variant of the
 * complete response plus `.p<first>-<last>` (partialVariant). The store sees a key+variant and bytes and
 * knows no HTTP; the range is read back from the entry's status (206) and its stored Content-Range. So no
 * Store method is added: lookup() returns the parts with the other variants, delete(key) removes them with
 * the rest (invalidation, purge), and a complete response written later replaces them (admit.ts).
 */
import { parseEntityTag, strongMatch } from './conditional.js';
import { parseHttpDate } from './http-date.js';
import { parseRange, type RangeSpec } from './range.js';

/** The part a 206 carries: `Content-Range: bytes first-last/complete` (RFC 9110 §14.4); complete known. */
export interface Part { start: number; end: number; size: number }

const CONTENT_RANGE = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i;

/**
 * A single-part Content-Range with a known complete length, or undefined (unsatisfied-range "*​/n", an
 * unknown length "/*", last < first, beyond the length: such a part cannot be placed in the whole).
 */
export function parseContentRange(value: string | undefined): Part | undefined {
  if (value === undefined) return undefined;
  const m = CONTENT_RANGE.exec(value);
  if (!m) return undefined;
  const start = Number(m[1]); const end = Number(m[2]); const size = Number(m[3]);
  if (!Number.isSafeInteger(end) || !Number.isSafeInteger(size) || end < start || end >= size) return undefined;
  return { start, end, size };
}

/** The slot of a stored part, beside the slot (`variant`) of the complete response. */
export function partialVariant(variant: string, part: Part): string {
  return `${variant}.p${part.start}-${part.end}`;
}

/** The variant of the complete response a part's slot belongs to. */
export function baseVariant(variant: string): string {
  const dot = variant.lastIndexOf('.p');
  return dot === -1 ? variant : variant.slice(0, dot);
}

function field(headers: readonly [string, string][], name: string): string | undefined {
  for (const [n, v] of headers) if (n.toLowerCase() === name) return v;
  return undefined;
}

/** A stored entry as far as partial content depends on it. */
export interface StoredPart { status: number; headers: [string, string][] }

/** The part a stored entry holds, or undefined when it is not a usable stored 206. */
export function partOf(entry: StoredPart): Part | undefined {
  if (entry.status !== 206) return undefined;
  return parseContentRange(field(entry.headers, 'content-range'));
}

/**
 * The strong validator of a response, for §3.4: a strong ETag, else (when there is no ETag at all) a
 * Last-Modified that is strong by RFC 9110 §8.8.2.2 (at least one second before Date). A weak ETag or a
 * weak date: none (such parts are never combined).
 */
export function strongValidator(headers: readonly [string, string][]): { etag: string } | { lastModified: string } | undefined {
  const etag = field(headers, 'etag');
  if (etag !== undefined) {
    const t = parseEntityTag(etag);
    return t && !t.weak ? { etag: etag.trim() } : undefined;
  }
  const lm = field(headers, 'last-modified');
  const lmTime = parseHttpDate(lm);
  const date = parseHttpDate(field(headers, 'date'));
  if (lm === undefined || lmTime === undefined || date === undefined || date - lmTime < 1000) return undefined;
  return { lastModified: lm.trim() };
}

/**
 * §3.4: two responses may be combined when both have a strong ETag and these match by strong comparison, or
 * neither has an ETag and both have the same strong Last-Modified. (The RFC's own wording: "the new response
 * and the stored response have validators that match by strong comparison".)
 */
export function sameValidator(a: readonly [string, string][], b: readonly [string, string][]): boolean {
  const va = strongValidator(a); const vb = strongValidator(b);
  if (!va || !vb) return false;
  if ('etag' in va && 'etag' in vb) {
    const ta = parseEntityTag(va.etag); const tb = parseEntityTag(vb.etag);
    return ta !== undefined && tb !== undefined && strongMatch(ta, tb);
  }
  if ('lastModified' in va && 'lastModified' in vb) return parseHttpDate(va.lastModified) === parseHttpDate(vb.lastModified);
  return false;
}

/** The If-Range value that asks the origin for more of the same representation (RFC 9110 §13.1.5). */
export function ifRangeValue(headers: readonly [string, string][]): string | undefined {
  const v = strongValidator(headers);
  if (!v) return undefined;
  return 'etag' in v ? v.etag : v.lastModified;
}

/** A stored part with the entry it came from. */
export interface Piece<E> { entry: E; part: Part }

/**
 * How a request is answered from stored parts (all of one representation, see `compatiblePieces`):
 * - `hit`: one stored part covers the requested range; `range` is resolved against the complete length;
 * - `run`: adjoining parts together cover it: bytes `start`-`end` assembled from `pieces` serve it;
 * - `combine`: the parts add up to the whole representation (ordered pieces, contiguous from 0 to size-1);
 * - `fetch-rest`: the parts cover bytes 0..from-1 contiguously, the request needs bytes from `from` on:
 *   ask the origin for `bytes=from-` and combine (§3.4);
 * - `miss`: nothing usable (the request goes upstream as it is).
 */
export type PartialPlan<E> =
  | { kind: 'hit'; piece: Piece<E>; range: RangeSpec }
  | { kind: 'run'; pieces: Piece<E>[]; start: number; end: number; range: RangeSpec }
  | { kind: 'combine'; pieces: Piece<E>[]; range?: RangeSpec }
  | { kind: 'fetch-rest'; pieces: Piece<E>[]; from: number; range?: RangeSpec }
  | { kind: 'miss' };

/**
 * The pieces of one representation: those sharing the newest piece's strong validator; without a strong
 * validator only the newest piece alone (it may still serve a range it covers: §3.3).
 */
export function compatiblePieces<E extends StoredPart>(newestFirst: Piece<E>[]): Piece<E>[] {
  const newest = newestFirst[0];
  if (!newest) return [];
  const size = newest.part.size;
  if (!strongValidator(newest.entry.headers)) return [newest];
  return newestFirst.filter((p) => p.part.size === size && sameValidator(p.entry.headers, newest.entry.headers));
}

/** The adjoining pieces that together hold `range`, with the bytes they span; undefined when there are none. */
function runCovering<E>(pieces: Piece<E>[], range: RangeSpec): { pieces: Piece<E>[]; start: number; end: number } | undefined {
  const sorted = [...pieces].sort((a, b) => a.part.start - b.part.start || b.part.end - a.part.end);
  let used: Piece<E>[] = [];
  let start = -1;
  let end = -2; // last byte of the current run
  for (const p of sorted) {
    if (p.part.start > end + 1) { // a gap: a new run begins
      if (start <= range.start && end >= range.end && used.length > 0) break;
      used = [];
      start = p.part.start;
    }
    if (p.part.end <= end) continue;
    used.push(p);
    end = p.part.end;
  }
  return used.length > 1 && start <= range.start && end >= range.end ? { pieces: used, start, end } : undefined;
}

/** Merge pieces into the longest run contiguous from byte 0: the pieces that make it, and its end (exclusive). */
function prefixRun<E>(pieces: Piece<E>[]): { used: Piece<E>[]; end: number } {
  const sorted = [...pieces].sort((a, b) => a.part.start - b.part.start || b.part.end - a.part.end);
  const used: Piece<E>[] = [];
  let end = 0;
  for (const p of sorted) {
    if (p.part.start > end) break;
    if (p.part.end + 1 <= end) continue; // inside what is already covered
    used.push(p);
    end = p.part.end + 1;
  }
  return { used, end };
}

/**
 * Plan the answer to a request (its Range header, undefined for a request of the whole) from the stored
 * pieces of one representation. Only single-range requests are answered from parts; several ranges go to
 * the origin. `maxSize` bounds what is combined in memory.
 */
export function planPartial<E extends StoredPart>(rangeHeader: string | undefined, pieces: Piece<E>[], maxSize: number): PartialPlan<E> {
  const first = pieces[0];
  if (!first) return { kind: 'miss' };
  const size = first.part.size;
  let range: RangeSpec | undefined;
  if (rangeHeader !== undefined) {
    const r = parseRange(rangeHeader, size);
    if (r.kind !== 'ranges' || r.ranges.length !== 1) return { kind: 'miss' };
    range = r.ranges[0]!;
    const covering = pieces.find((p) => p.part.start <= range!.start && p.part.end >= range!.end);
    if (covering) return { kind: 'hit', piece: covering, range };
    const run = runCovering(pieces, range);
    // (a run that is the whole is combined below, and stored as the complete response)
    if (run && !(run.start === 0 && run.end === size - 1) && run.end - run.start + 1 <= maxSize) return { kind: 'run', ...run, range };
  }
  if (size > maxSize) return { kind: 'miss' };
  const run = prefixRun(pieces);
  if (run.end >= size) return { kind: 'combine', pieces: run.used, range };
  // only worth asking for the rest when the stored run reaches into what the request needs
  if (run.end > 0 && (range === undefined || range.start <= run.end) && strongValidator(first.entry.headers) !== undefined) {
    return { kind: 'fetch-rest', pieces: run.used, from: run.end, range };
  }
  return { kind: 'miss' };
}

/** Fields of a part that describe the part, not the whole: not carried into the combined response. */
const PART_FIELDS = new Set(['content-range', 'content-length']);

/**
 * The head of the complete response made of parts (§3.4: the header fields of the newest part are used;
 * RFC 9110 §15.3.7.3 / §3.4's "use the other header fields provided in the new response").
 */
export function combinedHeaders(newest: readonly [string, string][]): [string, string][] {
  return newest.filter(([n]) => !PART_FIELDS.has(n.toLowerCase()));
}

/** Concatenate the bytes of a contiguous run of parts (overlaps trimmed) into the whole of `size` bytes. */
export function assemble(parts: { part: Part; body: Buffer }[], size: number): Buffer | undefined {
  return assembleSpan(parts, 0, size - 1);
}

/** Bytes `start`-`end` (inclusive) from parts that adjoin or overlap to hold them all; undefined when they do not. */
export function assembleSpan(parts: { part: Part; body: Buffer }[], start: number, end: number): Buffer | undefined {
  const out = Buffer.alloc(end - start + 1);
  let next = start; // the first byte not yet copied
  for (const { part, body } of [...parts].sort((a, b) => a.part.start - b.part.start)) {
    if (body.length !== part.end - part.start + 1 || part.start > next) return undefined;
    if (part.end < next) continue;
    const last = Math.min(part.end, end);
    body.copy(out, next - start, next - part.start, last - part.start + 1);
    next = last + 1;
    if (next > end) break;
  }
  return next > end ? out : undefined;
}
