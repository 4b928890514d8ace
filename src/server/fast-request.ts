/**
 * A strict parser for the one kind of request the fast hit path answers: a complete `GET` or `HEAD`
 * request head, HTTP/1.1, with no body and none of the fields that need the full cache policy.
 * It accepts a strict subset of what llhttp accepts (RFC 9112 §2–§5 with no leniency: CRLF only, token
 * field names, no obs-fold, visible-ASCII request target); anything else is `undefined`, and the bytes are
 * handed to node:http unchanged, which then answers exactly as it always does (including every 4xx).
 */

export interface FastRequest {
  method: 'GET' | 'HEAD';
  /** request target as sent (origin-form or absolute-form) */
  target: string;
  host: string;
  /** the client sent `Connection: close` */
  close: boolean;
  userAgent?: string;
  referer?: string;
  /** offset just past the head's final CRLF CRLF */
  end: number;
}

export interface FastParseLimits {
  maxHeaderSize: number;
  maxHeaders: number;
  maxUrlLength: number;
}

/**
 * Request fields that send the request to the slow path: framing and connection management (node:http
 * and the router judge them), preconditions and ranges (RFC 9110 §13, §14), request directives
 * (RFC 9111 §5.2.1, §5.4), credentials (RFC 9111 §3.5), loops (Via) and Max-Forwards.
 */
const SLOW_FIELDS = new Set([
  'content-length', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer', 'http2-settings',
  'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range',
  'cache-control', 'pragma', 'authorization', 'proxy-authorization', 'via', 'max-forwards',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** field-value characters: HTAB, SP, VCHAR, obs-text; no CTL (RFC 9110 §5.5) */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;
/**
 * request-target: origin-form or http(s) absolute-form, in RFC 3986 characters only (unreserved,
 * pct-encoded, sub-delims, ':', '@', '/', '?'): no fragment, no quote or brace that parsers disagree on
 */
const TARGET = /^(?:\/|https?:\/\/)[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]*$/;

/**
 * Parse one request head starting at `start` of `s` (the connection's bytes as latin1).
 * Returns undefined when the head is incomplete or is anything but a plain GET/HEAD.
 */
export function parseFastRequest(s: string, start: number, limits: FastParseLimits): FastRequest | undefined {
  const headEnd = s.indexOf('\r\n\r\n', start);
  if (headEnd === -1 || headEnd + 4 - start > limits.maxHeaderSize) return undefined;
  const lineEnd = s.indexOf('\r\n', start);
  let method: 'GET' | 'HEAD';
  let targetStart: number;
  if (s.startsWith('GET ', start)) { method = 'GET'; targetStart = start + 4; }
  else if (s.startsWith('HEAD ', start)) { method = 'HEAD'; targetStart = start + 5; }
  else return undefined;
  const versionStart = lineEnd - 9;
  if (versionStart <= targetStart || s.slice(versionStart, lineEnd) !== ' HTTP/1.1') return undefined;
  const target = s.slice(targetStart, versionStart);
  if (target.length > limits.maxUrlLength || !TARGET.test(target)) return undefined;

  let host: string | undefined;
  let close = false;
  let userAgent: string | undefined;
  let referer: string | undefined;
  let fields = 0;
  let pos = lineEnd + 2;
  while (pos < headEnd + 2) {
    const nl = s.indexOf('\r\n', pos);
    const line = s.slice(pos, nl);
    pos = nl + 2;
    if (++fields > limits.maxHeaders) return undefined;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const raw = line.slice(colon + 1);
    if (!FIELD_VALUE.test(raw)) return undefined;
    const value = raw.replace(OWS_EDGES, '');
    const lower = name.toLowerCase();
    if (SLOW_FIELDS.has(lower)) return undefined;
    switch (lower) {
      case 'host':
        if (host !== undefined) return undefined;
        host = value;
        break;
      case 'connection': {
        const v = value.toLowerCase();
        if (v === 'close') close = true;
        else if (v !== 'keep-alive') return undefined;
        break;
      }
      case 'user-agent': userAgent = value; break;
      case 'referer': referer = value; break;
    }
  }
  if (host === undefined || host.length === 0) return undefined;
  return { method, target, host, close, userAgent, referer, end: headEnd + 4 };
}
