/**
 * Pure access-log formatters: AccessRecord → one line (no trailing newline).
 *
 * Every value that comes from the network (URL, user, Referer, User-Agent, ...) is escaped so that a
 * client can never inject a line break or a fake field into the log (log injection).
 */
import type { AccessRecord } from './record.js';

/** Percent-encode every byte outside printable ASCII and the space: a space-free token. */
export function tokenEscape(s: string): string {
  // fast path: the usual case has nothing to escape
  // '%' stays as it is: URLs arrive percent-encoded and Squid logs them as received
  if (/^[\x21-\x7e]*$/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp > 0x20 && cp < 0x7f) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Escape for a double-quoted field, the way nginx does: '"', '\\', controls and non-ASCII become \xHH. */
export function quotedEscape(s: string): string {
  if (/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f && ch !== '"' && ch !== '\\') out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Squid result codes (http://www.squid-cache.org/Doc/config/logformat/, "%Ss").
 * The record does not say which tier served a hit, so a hit is TCP_HIT (TCP_MEM_HIT needs the tier).
 */
export function squidCode(r: AccessRecord): string {
  let code: string;
  switch (r.cache) {
    case 'hit': code = 'TCP_HIT'; break;
    case 'miss': code = 'TCP_MISS'; break;
    case 'revalidated': code = 'TCP_REFRESH_UNMODIFIED'; break;
    // stale-if-error (RFC 5861 §4): the refresh failed and the old copy was served
    case 'stale': code = r.upstreamError ? 'TCP_REFRESH_FAIL_OLD' : 'TCP_STALE_HIT'; break;
    case 'bypass': code = r.method === 'CONNECT' ? 'TCP_TUNNEL' : 'TCP_MISS'; break;
    case 'error': code = r.status === 403 || r.status === 407 ? 'TCP_DENIED' : 'NONE_NONE'; break;
  }
  // Squid marks responses cut short by the client or the network
  return r.aborted ? `${code}_ABORTED` : code;
}

/** Squid's hierarchy field: HIER_DIRECT/<upstream> when an origin was contacted, else HIER_NONE/-. */
export function squidHierarchy(r: AccessRecord): string {
  return r.upstreamAddress ? `HIER_DIRECT/${tokenEscape(r.upstreamAddress)}` : 'HIER_NONE/-';
}

const dash = (s: string | undefined): string => (s === undefined || s === '' ? '-' : tokenEscape(s));

/**
 * Squid native access.log, as `logformat squid`:
 *   %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt
 * The timestamp is the completion time, as in Squid. Bytes are body bytes sent.
 */
export function formatSquid(r: AccessRecord): string {
  const end = r.startTime + r.durationMs;
  const ts = `${Math.floor(end / 1000)}.${String(Math.floor(end % 1000)).padStart(3, '0')}`;
  const elapsed = String(Math.round(r.durationMs)).padStart(6, ' ');
  const status = String(r.status).padStart(3, '0');
  const type = r.contentType ? tokenEscape(r.contentType.replace(/\s+/g, '')) : '-';
  return `${ts} ${elapsed} ${tokenEscape(r.clientAddress)} ${squidCode(r)}/${status} ${r.bytesSent} ` +
    `${tokenEscape(r.method)} ${tokenEscape(r.url)} ${dash(r.user)} ${squidHierarchy(r)} ${type}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Common Log Format time, in UTC: 10/Oct/2000:13:55:36 +0000 */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

const quoted = (s: string | undefined): string => `"${s === undefined || s === '' ? '-' : quotedEscape(s)}"`;

/**
 * Apache/nginx "combined" (https://httpd.apache.org/docs/2.4/logs.html#combined), as nginx writes it
 * (body bytes sent, 0 when none), followed by ` cache=<result> up=<upstream ms or ->`.
 */
export function formatCombined(r: AccessRecord): string {
  const request = `${r.method} ${r.url} HTTP/${r.httpVersion}`;
  const up = r.upstreamMs === undefined ? '-' : String(Math.round(r.upstreamMs));
  return `${tokenEscape(r.clientAddress)} - ${dash(r.user)} [${clfTime(r.startTime)}] ${quoted(request)} ` +
    `${r.status} ${r.bytesSent} ${quoted(r.referer)} ${quoted(r.userAgent)} cache=${r.cache} up=${up}`;
}

/** Fields of a JSON access-log line (undefined values are left out by the serializer). */
export function jsonFields(r: AccessRecord): Record<string, unknown> {
  return {
    time: new Date(r.startTime).toISOString(),
    client: r.clientAddress,
    clientPort: r.clientPort,
    user: r.user,
    method: r.method,
    url: r.url,
    httpVersion: r.httpVersion,
    status: r.status,
    bytes: r.bytesSent,
    bytesIn: r.bytesReceived,
    durationMs: round3(r.durationMs),
    upstreamMs: r.upstreamMs === undefined ? undefined : round3(r.upstreamMs),
    cache: r.cache,
    cacheStatus: r.cacheStatus,
    upstream: r.upstreamAddress,
    upstreamError: r.upstreamError,
    rule: r.rule,
    collapsed: r.collapsed || undefined,
    contentType: r.contentType,
    referer: r.referer,
    userAgent: r.userAgent,
    aborted: r.aborted || undefined,
  };
}

/** A JSON string literal: the common case (printable ASCII, no quote or backslash) without JSON.stringify. */
function jsonString(s: string): string {
  return /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(s) ? `"${s}"` : JSON.stringify(s);
}

let isoSecond = -1;
let isoPrefix = '';
/** new Date(ms).toISOString(), with the part up to the second made once per second */
function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  return `${isoPrefix}${String(Math.floor(ms) - second * 1000).padStart(3, '0')}Z`;
}

/**
 * The JSON access-log line: the same text as `JSON.stringify(jsonFields(r))` (same fields, same order,
 * undefined ones left out), built from a fixed layout instead of a fresh object per request.
 */
export function formatJson(r: AccessRecord): string {
  let out = `{"time":"${isoTime(r.startTime)}","client":${jsonString(r.clientAddress)}`;
  if (r.clientPort !== undefined) out += `,"clientPort":${r.clientPort}`;
  if (r.user !== undefined) out += `,"user":${jsonString(r.user)}`;
  out += `,"method":${jsonString(r.method)},"url":${jsonString(r.url)},"httpVersion":${jsonString(r.httpVersion)}`;
  out += `,"status":${r.status},"bytes":${r.bytesSent},"bytesIn":${r.bytesReceived},"durationMs":${JSON.stringify(round3(r.durationMs))}`;
  if (r.upstreamMs !== undefined) out += `,"upstreamMs":${JSON.stringify(round3(r.upstreamMs))}`;
  out += `,"cache":"${r.cache}","cacheStatus":${jsonString(r.cacheStatus)}`;
  if (r.upstreamAddress !== undefined) out += `,"upstream":${jsonString(r.upstreamAddress)}`;
  if (r.upstreamError !== undefined) out += `,"upstreamError":${jsonString(r.upstreamError)}`;
  if (r.rule !== undefined) out += `,"rule":${jsonString(r.rule)}`;
  if (r.collapsed) out += ',"collapsed":true';
  if (r.contentType !== undefined) out += `,"contentType":${jsonString(r.contentType)}`;
  if (r.referer !== undefined) out += `,"referer":${jsonString(r.referer)}`;
  if (r.userAgent !== undefined) out += `,"userAgent":${jsonString(r.userAgent)}`;
  if (r.aborted) out += ',"aborted":true';
  return `${out}}`;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
