import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RANGES, contentRange, ifRangeAllows, multipartByteranges, parseRange } from '../../src/cache/range.js';

const ranges = (...r: [number, number][]) => ({ kind: 'ranges', ranges: r.map(([start, end]) => ({ start, end })) });

test('RFC 9110 §14.2 no Range header → none', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'none' });
});

test('RFC 9110 §14.1.2 first-last, open-ended and suffix ranges', () => {
  assert.deepEqual(parseRange('bytes=0-9', 100), ranges([0, 9]));
  assert.deepEqual(parseRange('bytes=90-', 100), ranges([90, 99]));
  assert.deepEqual(parseRange('bytes=-10', 100), ranges([90, 99]));
  assert.deepEqual(parseRange('bytes=-500', 100), ranges([0, 99]));
});

test('RFC 9110 §14.1.2 last-pos beyond the end is clamped', () => {
  assert.deepEqual(parseRange('bytes=50-1000', 100), ranges([50, 99]));
  assert.deepEqual(parseRange('bytes=0-99999999999999999999999', 100), ranges([0, 99]));
});

test('RFC 9110 §14.1 unit is case-insensitive, whitespace around specs tolerated', () => {
  assert.deepEqual(parseRange('Bytes= 0-1 , 5-6', 100), ranges([0, 1], [5, 6]));
});

test('RFC 9110 §14.1.1 first-pos beyond the end, or -0 → 416 when nothing is satisfiable', () => {
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=200-300, 5-6', 100), ranges([5, 6]));
});

test('RFC 9110 §14.2 malformed ranges or other units are ignored (full 200)', () => {
  for (const h of ['bytes=5-1', 'bytes=a-b', 'bytes=-', 'items=0-1', 'bytes 0-1', 'bytes=', 'bytes=1-2-3', 'bytes=0x1-2', 'bytes=1.5-2']) {
    assert.deepEqual(parseRange(h, 100), { kind: 'ignore' }, h);
  }
});

test('RFC 9110 §14.2 overlapping and adjacent ranges are coalesced', () => {
  assert.deepEqual(parseRange('bytes=0-10, 5-20, 21-30, 50-60', 100), ranges([0, 30], [50, 60]));
  assert.deepEqual(parseRange('bytes=50-60, 0-1', 100), ranges([0, 1], [50, 60]));
});

test('RFC 9110 §14.2 too many ranges → ignored', () => {
  const many = 'bytes=' + Array.from({ length: MAX_RANGES + 1 }, (_, i) => `${i * 2}-${i * 2}`).join(',');
  assert.deepEqual(parseRange(many, 1000), { kind: 'ignore' });
});

const STORED: [string, string][] = [['ETag', '"v1"'], ['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Date', 'Tue, 02 Jan 2024 00:00:00 GMT']];

test('RFC 9110 §13.1.5 If-Range with an entity-tag needs a strong match', () => {
  assert.equal(ifRangeAllows(undefined, STORED), true);
  assert.equal(ifRangeAllows('"v1"', STORED), true);
  assert.equal(ifRangeAllows('"v2"', STORED), false);
  assert.equal(ifRangeAllows('W/"v1"', STORED), false);
  assert.equal(ifRangeAllows('"v1"', [['ETag', 'W/"v1"']]), false);
});

test('RFC 9110 §13.1.5 If-Range with a date needs exact equality with a strong Last-Modified', () => {
  assert.equal(ifRangeAllows('Mon, 01 Jan 2024 00:00:00 GMT', STORED), true);
  assert.equal(ifRangeAllows('Mon, 01 Jan 2024 00:00:01 GMT', STORED), false);
  // Last-Modified equal to Date is weak (§8.8.2.2)
  assert.equal(ifRangeAllows('Mon, 01 Jan 2024 00:00:00 GMT', [['Last-Modified', 'Mon, 01 Jan 2024 00:00:00 GMT'], ['Date', 'Mon, 01 Jan 2024 00:00:00 GMT']]), false);
  assert.equal(ifRangeAllows('garbage', STORED), false);
});

test('RFC 9110 §14.4 Content-Range', () => {
  assert.equal(contentRange({ start: 0, end: 99 }, 1000), 'bytes 0-99/1000');
});

test('RFC 9110 §14.6 multipart/byteranges framing and length', () => {
  const body = Buffer.from('0123456789');
  const m = multipartByteranges([{ start: 0, end: 1 }, { start: 5, end: 7 }], body.length, 'text/plain');
  const assembled = Buffer.concat([
    ...m.parts.flatMap((p) => [p.head, body.subarray(p.range.start, p.range.end + 1)]), m.tail,
  ]);
  assert.equal(assembled.length, m.length);
  const text = assembled.toString('latin1');
  assert.equal(text,
    `\r\n--${m.boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01` +
    `\r\n--${m.boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-7/10\r\n\r\n567` +
    `\r\n--${m.boundary}--\r\n`);
  assert.match(m.boundary, /^[0-9a-f]{24}$/);
  assert.ok(!multipartByteranges([{ start: 0, end: 0 }], 1, undefined).parts[0]!.head.toString().includes('Content-Type'));
});
