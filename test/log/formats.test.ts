import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatCombined, formatSquid, formatJson, jsonFields, squidCode, tokenEscape, quotedEscape } from '../../src/log/formats.js';
import type { AccessRecord } from '../../src/log/record.js';
import { record } from './records.js';

const SQUID_RE = /^(\d+)\.(\d{3}) +(\d+) (\S+) ([A-Z_]+)\/(\d{3}) (\d+) (\S+) (\S+) (\S+) (HIER_[A-Z]+)\/(\S+) (\S+)$/;

function parseSquid(line: string) {
  const m = SQUID_RE.exec(line);
  assert.ok(m, `squid line does not parse: ${line}`);
  return {
    time: Number(m[1]) * 1000 + Number(m[2]), elapsed: Number(m[3]), client: m[4], code: m[5], status: Number(m[6]),
    bytes: Number(m[7]), method: m[8], url: m[9], user: m[10], hier: m[11], peer: m[12], type: m[13],
  };
}

const COMBINED_RE = /^(\S+) - (\S+) \[([^\]]+)\] "((?:[^"\\]|\\x[0-9A-F]{2})*)" (\d{3}) (\d+) "((?:[^"\\]|\\x[0-9A-F]{2})*)" "((?:[^"\\]|\\x[0-9A-F]{2})*)" cache=(\w+) up=(\d+|-)$/;

function parseCombined(line: string) {
  const m = COMBINED_RE.exec(line);
  assert.ok(m, `combined line does not parse: ${line}`);
  return { client: m[1], user: m[2], time: m[3], request: m[4], status: Number(m[5]), bytes: Number(m[6]), referer: m[7], ua: m[8], cache: m[9], up: m[10] };
}

test('squid line parses back to the record fields', () => {
  const r = record();
  const p = parseSquid(formatSquid(r));
  assert.equal(p.time, r.startTime + 42); // completion time, ms truncated
  assert.equal(p.elapsed, 43);
  assert.equal(p.client, '127.0.0.1');
  assert.equal(p.code, 'TCP_MISS');
  assert.equal(p.status, 200);
  assert.equal(p.bytes, 1234);
  assert.equal(p.method, 'GET');
  assert.equal(p.url, r.url);
  assert.equal(p.user, '-');
  assert.equal(p.hier, 'HIER_DIRECT');
  assert.equal(p.peer, '10.0.0.1:80');
  assert.equal(p.type, 'text/html;charset=utf-8');
});

test('squid result codes follow the cache result', () => {
  const cases: [Partial<AccessRecord>, string][] = [
    [{ cache: 'hit' }, 'TCP_HIT'],
    [{ cache: 'miss' }, 'TCP_MISS'],
    [{ cache: 'revalidated' }, 'TCP_REFRESH_UNMODIFIED'],
    [{ cache: 'stale' }, 'TCP_STALE_HIT'],
    [{ cache: 'stale', upstreamError: 'connect' }, 'TCP_REFRESH_FAIL_OLD'],
    [{ cache: 'bypass' }, 'TCP_MISS'],
    [{ cache: 'bypass', method: 'CONNECT', url: 'example.test:443' }, 'TCP_TUNNEL'],
    [{ cache: 'error', status: 403 }, 'TCP_DENIED'],
    [{ cache: 'error', status: 407 }, 'TCP_DENIED'],
    [{ cache: 'error', status: 502 }, 'NONE_NONE'],
    [{ cache: 'miss', aborted: true }, 'TCP_MISS_ABORTED'],
  ];
  for (const [over, code] of cases) {
    const r = record(over);
    assert.equal(squidCode(r), code, JSON.stringify(over));
    assert.equal(parseSquid(formatSquid(r)).code, code);
  }
});

test('squid hierarchy is HIER_NONE/- without upstream, user is logged', () => {
  const p = parseSquid(formatSquid(record({ cache: 'hit', upstreamAddress: undefined, upstreamMs: undefined, user: 'alice', contentType: undefined })));
  assert.equal(p.hier, 'HIER_NONE');
  assert.equal(p.peer, '-');
  assert.equal(p.user, 'alice');
  assert.equal(p.type, '-');
});

test('squid fields cannot be split or broken by hostile values', () => {
  const r = record({ url: 'http://x.test/a b\nFAKE 1.000 TCP_HIT/200', user: 'bob smith', method: 'GET' });
  const line = formatSquid(r);
  assert.ok(!line.includes('\n'));
  const p = parseSquid(line);
  assert.equal(decodeURIComponent(p.url), r.url);
  assert.equal(decodeURIComponent(p.user), 'bob smith');
});

test('combined line parses back to the record fields', () => {
  const r = record({ user: 'alice' });
  const p = parseCombined(formatCombined(r));
  assert.equal(p.client, '127.0.0.1');
  assert.equal(p.user, 'alice');
  assert.equal(p.time, '10/Oct/2024:13:55:36 +0000');
  assert.equal(p.request, 'GET http://example.test/a/b?c=1 HTTP/1.1');
  assert.equal(p.status, 200);
  assert.equal(p.bytes, 1234);
  assert.equal(p.referer, 'http://ref.test/');
  assert.equal(p.ua, 'curl/8.5.0');
  assert.equal(p.cache, 'miss');
  assert.equal(p.up, '30');
});

test('combined: missing values are dashes, quotes and newlines are escaped', () => {
  const r = record({ cache: 'hit', upstreamMs: undefined, referer: undefined, userAgent: 'evil"agent\n127.0.0.1 - - [x] "GET / HTTP/1.1" 200 0' });
  const line = formatCombined(r);
  assert.ok(!line.includes('\n'));
  const p = parseCombined(line);
  assert.equal(p.up, '-');
  assert.equal(p.referer, '-');
  assert.equal(p.user, '-');
  assert.equal(p.cache, 'hit');
  assert.ok(p.ua.startsWith('evil\\x22agent\\x0A'));
});

test('json fields carry what the issue asks for', () => {
  const r = record({ collapsed: true });
  const j = JSON.parse(JSON.stringify(jsonFields(r))) as Record<string, unknown>;
  assert.equal(j.time, '2024-10-10T13:55:36.123Z');
  assert.equal(j.client, '127.0.0.1');
  assert.equal(j.method, 'GET');
  assert.equal(j.url, r.url);
  assert.equal(j.status, 200);
  assert.equal(j.bytes, 1234);
  assert.equal(j.durationMs, 42.5);
  assert.equal(j.upstreamMs, 30.2);
  assert.equal(j.cache, 'miss');
  assert.equal(j.upstream, '10.0.0.1:80');
  assert.equal(j.collapsed, true);
  assert.equal('aborted' in j, false);
});

test('escapers leave ordinary text alone and encode the rest', () => {
  assert.equal(tokenEscape('http://a.test/x?y=1'), 'http://a.test/x?y=1');
  assert.equal(tokenEscape('a b%c\u00e9'), 'a%20b%c%C3%A9');
  // URLs are logged as received, like Squid: an encoded '+' stays %2b (apt asks for cowsay_3.03%2bdfsg2-8_all.deb)
  assert.equal(tokenEscape('http://d.test/pool/cowsay_3.03%2bdfsg2-8_all.deb'), 'http://d.test/pool/cowsay_3.03%2bdfsg2-8_all.deb');
  assert.equal(quotedEscape('Mozilla/5.0 (X11)'), 'Mozilla/5.0 (X11)');
  assert.equal(quotedEscape('a"b\\c'), 'a\\x22b\\x5Cc');
});

test('the JSON line built from its fixed layout is exactly JSON.stringify of the record fields', () => {
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('a"b', 'c\\d', 'e\nf', '\u2028', '\ud800'));
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const rec = fc.record({
    startTime: fc.integer({ min: 0, max: 4_102_444_800_000 }),
    durationMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
    upstreamMs: opt(fc.double({ min: 0, max: 1e6, noNaN: true })),
    clientAddress: text, clientPort: opt(fc.integer({ min: 0, max: 65535 })), user: opt(text),
    method: text, url: text, httpVersion: fc.constantFrom('1.0', '1.1'),
    status: fc.integer({ min: 100, max: 599 }), bytesSent: fc.nat(), bytesReceived: fc.nat(),
    cache: fc.constantFrom('hit', 'stale', 'revalidated', 'miss', 'bypass', 'error'),
    cacheStatus: text, upstreamAddress: opt(text), upstreamError: opt(text), rule: opt(text),
    collapsed: opt(fc.boolean()), contentType: opt(text), referer: opt(text), userAgent: opt(text), aborted: opt(fc.boolean()),
  });
  fc.assert(fc.property(rec, (r) => {
    assert.equal(formatJson(r as AccessRecord), JSON.stringify(jsonFields(r as AccessRecord)));
  }), { numRuns: 2000 });
});
