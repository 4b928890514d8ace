/** Partial content planning (RFC 9111 §3.3, §3.4), cache/partial.ts: pure functions, no socket. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assemble, assembleSpan, baseVariant, combinedHeaders, compatiblePieces, ifRangeValue, parseContentRange, partOf, partialVariant,
  planPartial, sameValidator, strongValidator, type Piece, type StoredPart,
} from '../../src/cache/partial.js';

const DATE = 'Wed, 02 Dec 2026 12:00:00 GMT';
const LM = 'Wed, 02 Dec 2026 10:00:00 GMT';
function stored(first: number, last: number, size: number, validator: [string, string][] = [['ETag', '"a"']]): Piece<StoredPart> {
  const entry: StoredPart = { status: 206, headers: [['Date', DATE], ...validator, ['Content-Range', `bytes ${first}-${last}/${size}`], ['Content-Length', String(last - first + 1)]] };
  return { entry, part: partOf(entry)! };
}

test('RFC 9110 §14.4 Content-Range of a single part with a known length', () => {
  assert.deepEqual(parseContentRange('bytes 0-4/16'), { start: 0, end: 4, size: 16 });
  assert.deepEqual(parseContentRange(' Bytes 10-15/16 '), { start: 10, end: 15, size: 16 });
  for (const v of ['bytes */16', 'bytes 0-4/*', 'bytes 5-4/16', 'bytes 0-16/16', 'items 0-4/16', 'bytes 0-4', 'bytes=0-4/16', undefined]) {
    assert.equal(parseContentRange(v), undefined, String(v));
  }
});

test('§3.3 only a 206 with a placeable Content-Range is a stored part', () => {
  assert.deepEqual(partOf({ status: 206, headers: [['content-range', 'bytes 2-3/9']] }), { start: 2, end: 3, size: 9 });
  assert.equal(partOf({ status: 200, headers: [['Content-Range', 'bytes 2-3/9']] }), undefined);
  assert.equal(partOf({ status: 206, headers: [['Content-Type', 'multipart/byteranges; boundary=x']] }), undefined);
});

test('a part slot sits beside the complete variant and maps back to it', () => {
  assert.equal(partialVariant('', { start: 0, end: 4, size: 16 }), '.p0-4');
  assert.equal(baseVariant('.p0-4'), '');
  assert.equal(baseVariant(partialVariant('AbC-_9', { start: 3, end: 8, size: 9 })), 'AbC-_9');
  assert.equal(baseVariant('AbC-_9'), 'AbC-_9');
});

test('§3.4 validators: strong ETags by strong comparison, else the same strong Last-Modified', () => {
  assert.deepEqual(strongValidator([['ETag', '"x"']]), { etag: '"x"' });
  assert.equal(strongValidator([['ETag', 'W/"x"'], ['Last-Modified', LM], ['Date', DATE]]), undefined);
  assert.deepEqual(strongValidator([['Last-Modified', LM], ['Date', DATE]]), { lastModified: LM });
  // RFC 9110 §8.8.2.2: a Last-Modified less than a second before Date is weak
  assert.equal(strongValidator([['Last-Modified', DATE], ['Date', DATE]]), undefined);
  assert.equal(sameValidator([['ETag', '"x"']], [['etag', '"x"']]), true);
  assert.equal(sameValidator([['ETag', '"x"']], [['ETag', '"y"']]), false);
  assert.equal(sameValidator([['ETag', 'W/"x"']], [['ETag', 'W/"x"']]), false);
  assert.equal(sameValidator([['Last-Modified', LM], ['Date', DATE]], [['Last-Modified', LM], ['Date', DATE]]), true);
  assert.equal(sameValidator([['ETag', '"x"']], [['Last-Modified', LM], ['Date', DATE]]), false);
  assert.equal(ifRangeValue([['ETag', '"x"']]), '"x"');
  assert.equal(ifRangeValue([['Last-Modified', LM], ['Date', DATE]]), LM);
  assert.equal(ifRangeValue([['ETag', 'W/"x"']]), undefined);
});

test('§3.4 only parts of the newest part\'s representation are used together', () => {
  const newest = stored(0, 4, 16);
  const same = stored(5, 15, 16);
  const other = stored(5, 15, 16, [['ETag', '"b"']]);
  const otherSize = stored(5, 15, 20);
  assert.deepEqual(compatiblePieces([newest, other, same, otherSize]), [newest, same]);
  const weak = stored(0, 4, 16, [['ETag', 'W/"w"']]);
  assert.deepEqual(compatiblePieces([weak, stored(5, 15, 16, [['ETag', 'W/"w"']])]), [weak]);
  assert.deepEqual(compatiblePieces([]), []);
});

test('§3.3 a range one part covers is a hit: byte, open-ended and suffix ranges', () => {
  const p = stored(4, 15, 16);
  assert.deepEqual(planPartial('bytes=4-9', [p], 1e6), { kind: 'hit', piece: p, range: { start: 4, end: 9 } });
  assert.deepEqual(planPartial('bytes=10-', [p], 1e6), { kind: 'hit', piece: p, range: { start: 10, end: 15 } });
  assert.deepEqual(planPartial('bytes=-3', [p], 1e6), { kind: 'hit', piece: p, range: { start: 13, end: 15 } });
  // the last-pos beyond the end is clamped to the complete length (RFC 9110 §14.1.2)
  assert.deepEqual(planPartial('bytes=12-99', [p], 1e6), { kind: 'hit', piece: p, range: { start: 12, end: 15 } });
});

test('§3.3 bytes that no stored part holds: miss (the request goes upstream as it is)', () => {
  const p = stored(4, 9, 16);
  assert.equal(planPartial('bytes=0-3', [p], 1e6).kind, 'miss');
  assert.equal(planPartial('bytes=12-14', [p], 1e6).kind, 'miss');
  assert.equal(planPartial(undefined, [p], 1e6).kind, 'miss');
  // several ranges, malformed and unsatisfiable ranges are the origin's to answer
  assert.equal(planPartial('bytes=4-5,7-8', [p], 1e6).kind, 'miss');
  assert.equal(planPartial('bytes=x', [p], 1e6).kind, 'miss');
  assert.equal(planPartial('bytes=99-', [p], 1e6).kind, 'miss');
  assert.equal(planPartial('bytes=0-1', [], 1e6).kind, 'miss');
});

test('§3.4 parts that add up to the whole combine, overlaps included', () => {
  const a = stored(0, 9, 16); const b = stored(6, 15, 16);
  assert.deepEqual(planPartial(undefined, [b, a], 1e6), { kind: 'combine', pieces: [a, b], range: undefined });
  assert.deepEqual(planPartial('bytes=8-11', [b, a], 1e6), { kind: 'hit', piece: b, range: { start: 8, end: 11 } });
  assert.deepEqual(planPartial('bytes=5-11', [b, a], 1e6), { kind: 'combine', pieces: [a, b], range: { start: 5, end: 11 } });
  // larger than what may be held in memory: not combined
  assert.equal(planPartial(undefined, [a, b], 15).kind, 'miss');
});

test('§3.4 with the first bytes stored only the rest is fetched, when there is a strong validator', () => {
  const a = stored(0, 4, 16); const b = stored(5, 9, 16);
  assert.deepEqual(planPartial(undefined, [a, b], 1e6), { kind: 'fetch-rest', pieces: [a, b], from: 10, range: undefined });
  assert.deepEqual(planPartial('bytes=8-12', [a, b], 1e6), { kind: 'fetch-rest', pieces: [a, b], from: 10, range: { start: 8, end: 12 } });
  // a range that starts past the stored run is not worth completing from it
  assert.equal(planPartial('bytes=12-13', [a, b], 1e6).kind, 'miss');
  // a run that does not start at byte 0 is not completed
  assert.equal(planPartial(undefined, [stored(1, 9, 16)], 1e6).kind, 'miss');
  // no strong validator: If-Range could not keep the bytes of one representation
  assert.equal(planPartial(undefined, [stored(0, 4, 16, [['ETag', 'W/"w"']])], 1e6).kind, 'miss');
});

test('assemble concatenates a contiguous run into the whole, and refuses gaps or short parts', () => {
  const whole = Buffer.from('0123456789abcdef');
  const piece = (s: number, e: number) => ({ part: { start: s, end: e, size: 16 }, body: whole.subarray(s, e + 1) });
  assert.deepEqual(assemble([piece(8, 15), piece(0, 9)], 16), whole);
  assert.deepEqual(assemble([piece(0, 15), piece(3, 4)], 16), whole);
  assert.equal(assemble([piece(0, 4), piece(6, 15)], 16), undefined);
  assert.equal(assemble([piece(0, 4)], 16), undefined);
  assert.equal(assemble([{ part: { start: 0, end: 15, size: 16 }, body: whole.subarray(0, 10) }], 16), undefined);
});

test('§3.4 the combined head is the newest part\'s, without the fields that describe the part', () => {
  assert.deepEqual(combinedHeaders([['ETag', '"a"'], ['Content-Range', 'bytes 0-4/16'], ['content-length', '5'], ['X', 'y']]), [['ETag', '"a"'], ['X', 'y']]);
});

test('§3.3 adjoining parts that together hold the range serve it (run), without asking the origin', () => {
  const a = stored(0, 4, 16); const b = stored(5, 9, 16); const c = stored(12, 15, 16);
  assert.deepEqual(planPartial('bytes=3-7', [c, b, a], 1e6), { kind: 'run', pieces: [a, b], start: 0, end: 9, range: { start: 3, end: 7 } });
  const d = stored(2, 5, 16); const e = stored(6, 9, 16);
  assert.deepEqual(planPartial('bytes=4-7', [e, d], 1e6), { kind: 'run', pieces: [d, e], start: 2, end: 9, range: { start: 4, end: 7 } });
  // across a gap: not held
  assert.notEqual(planPartial('bytes=8-13', [c, b, a], 1e6).kind, 'run');
  // larger than may be assembled in memory
  assert.notEqual(planPartial('bytes=3-7', [b, a], 5).kind, 'run');
});

test('assembleSpan copies bytes start-end from adjoining or overlapping parts', () => {
  const whole = Buffer.from('0123456789abcdef');
  const piece = (s: number, e: number) => ({ part: { start: s, end: e, size: 16 }, body: whole.subarray(s, e + 1) });
  assert.equal(assembleSpan([piece(5, 9), piece(2, 6)], 2, 9)?.toString(), '23456789');
  assert.equal(assembleSpan([piece(0, 15)], 3, 5)?.toString(), '345');
  assert.equal(assembleSpan([piece(0, 4), piece(6, 9)], 0, 9), undefined);
  assert.equal(assembleSpan([piece(3, 9)], 2, 9), undefined);
});
