/**
 * The router: classifies a request (forward absolute-form, reverse origin-form, intercepted HTTPS),
 * refuses loops and malformed targets, and prepares the header fields sent upstream
 * (RFC 9110 §7.6 hop-by-hop and Via, RFC 9112 §3.2 request target and Host).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces, hostname } from 'node:os';
import type { Config } from '../config/load.js';
import type { AccessRecord } from '../log/record.js';
import { badRequest, forbidden, loopDetected, tooManyHeaders, uriTooLong, versionNotSupported } from '../errors.js';
import { stripHopByHop, viaNames, getRaw } from './headers.js';
import { viaEntry } from '../http/via.js';
import type { Exchange, RouteMode } from './exchange.js';

/** The options the router reads (a slice of Config). */
export type RouterConfig = Pick<Config, 'forward' | 'host' | 'maxHeaders' | 'maxUrlLength' | 'stripRequestHeaders' | 'upstream' | 'upstreamHost' | 'via' | 'xForwardedFor'>;

export interface RouterOptions {
  config: RouterConfig;
  /** the port the proxy listens on (after binding) */
  listenPort: () => number;
  /** CONNECT target of an intercepted TLS socket */
  interceptTargetOf?: (socket: unknown) => { host: string; port: number } | undefined;
}

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//;
/** RFC 9110 §7.2 Host: reg-name (letters, digits, - . _ ~) or [IPv6], optional port */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{0,5})?$/;

/** A request that announces a body: Transfer-Encoding, or a Content-Length other than 0. */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && Number(cl) !== 0;
}

export class Router {
  private readonly upstream?: URL;
  /** path of the configured upstream without its trailing slash ('' for none) */
  private readonly upstreamBase: string = '';
  private readonly strip: Set<string>;
  private readonly localNames: Set<string>;

  constructor(private readonly opts: RouterOptions) {
    const c = opts.config;
    if (c.upstream) {
      this.upstream = new URL(c.upstream);
      this.upstreamBase = this.upstream.pathname.replace(/\/+$/, '');
    }
    // the client's own X-Forwarded-For never goes upstream as is: rebuilt below when xForwardedFor is on, else dropped
    this.strip = new Set([...c.stripRequestHeaders.map((h) => h.toLowerCase()), 'host', 'expect', 'max-forwards', 'via', 'x-forwarded-for']);
    this.localNames = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0', '::', hostname().toLowerCase(), c.host.toLowerCase()]);
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) this.localNames.add(a.address.toLowerCase());
    }
  }

  /** Build the Exchange for a request, or throw a CodedError explaining the refusal. */
  route(req: IncomingMessage, res: ServerResponse, record: AccessRecord): Exchange {
    const c = this.opts.config;
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '';
    // llhttp passes HTTP/0.9 and HTTP/2.0 request lines through; larder speaks 1.0 and 1.1 only (RFC 9110 §15.6.6)
    if (req.httpVersion !== '1.1' && req.httpVersion !== '1.0') {
      throw versionNotSupported(req.httpVersion);
    }
    if (rawUrl.length > c.maxUrlLength) throw uriTooLong(c.maxUrlLength);
    if (req.rawHeaders.length / 2 > c.maxHeaders) throw tooManyHeaders(c.maxHeaders);
    let hostLines = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hostLines++;
    if (hostLines > 1) throw badRequest('more than one Host header field (RFC 9112 §3.2)');
    if (hostLines === 0 && req.httpVersion !== '1.0') throw badRequest('HTTP/1.1 request without a Host header field (RFC 9112 §3.2)');
    const clientHost = req.headers.host;
    // an invalid Host is refused, never replaced: the key and the upstream must see the same host (RFC 9112 §3.2)
    if (clientHost !== undefined && clientHost !== '' && !VALID_HOST.test(clientHost)) throw badRequest('invalid Host header field (RFC 9112 §3.2)');
    if ((method === 'GET' || method === 'HEAD') && hasBody(req)) {
      // the body is not part of the cache key: a GET with a body could store one answer for another's question
      throw badRequest(`${method} with a request body is not accepted (the body would not be part of the cache key)`);
    }

    const intercepted = this.opts.interceptTargetOf?.(req.socket);
    let mode: RouteMode;
    let target: URL;
    let resourceUrl: string;
    let upstreamHost: string;
    if (ABSOLUTE.test(rawUrl) && !intercepted) {
      if (!c.forward) throw forbidden('forward proxying is disabled on this listener', 'forward-off');
      let u: URL;
      try { u = new URL(rawUrl); } catch { throw badRequest('malformed absolute request target'); }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest(`unsupported scheme ${u.protocol.replace(':', '')} (only http and https)`);
      if (u.username || u.password) throw badRequest('credentials in the request target are not allowed');
      if (!u.hostname) throw badRequest('request target has no host');
      u.hash = '';
      mode = 'forward';
      target = u;
      resourceUrl = u.href;
      upstreamHost = u.host;
    } else if (rawUrl.startsWith('/') || (rawUrl === '*' && method === 'OPTIONS')) {
      // RFC 9112 §3.2.1 origin-form: a backslash is no path character, and URL parsers read it as "/"
      if (rawUrl.includes('\\')) throw badRequest('malformed request target (backslash)');
      // the path on its own, on a placeholder authority: dot segments resolved, and "//host/..." stays a path
      const path = new URL(`http://origin-form.invalid${rawUrl === '*' ? '/' : rawUrl}`);
      if (intercepted) {
        const hostHeader = clientHost?.toLowerCase();
        const defaultAuthority = intercepted.port === 443 ? intercepted.host : `${intercepted.host}:${intercepted.port}`;
        // the Host header may not steer an intercepted request elsewhere than the CONNECT target (cache poisoning)
        const authority = hostHeader && (hostHeader === defaultAuthority.toLowerCase() || hostHeader === `${intercepted.host}:${intercepted.port}`.toLowerCase())
          ? hostHeader : defaultAuthority;
        mode = 'intercept';
        target = new URL(`https://${authority}${path.pathname}${path.search}`);
        resourceUrl = target.href;
        upstreamHost = authority;
      } else if (this.upstream) {
        mode = 'reverse';
        // joined as text onto the configured upstream's origin and base path, never resolved as a reference:
        // new URL("//169.254.169.254/x", upstream) would leave the upstream's authority
        target = new URL(`${this.upstream.origin}${this.upstreamBase}${path.pathname}${path.search}`);
        if (target.host !== this.upstream.host) throw badRequest('malformed request target');
        const host = clientHost || this.upstream.host;
        upstreamHost = c.upstreamHost ?? host;
        resourceUrl = `${this.upstream.protocol}//${host.toLowerCase()}${path.pathname}${path.search}`;
      } else {
        throw badRequest('larder is a proxy: send absolute-form requests (curl -x http://HOST:PORT URL), or start it with --upstream for reverse proxying');
      }
    } else if (method === 'CONNECT') {
      throw badRequest('malformed CONNECT target (authority-form host:port)');
    } else {
      throw badRequest('malformed request target: expected origin-form (/path), absolute-form (http://host/path), or * for OPTIONS');
    }

    // loops: our own pseudonym in Via, or a forward request aimed at our own listener
    if (viaNames(getRaw(req.rawHeaders, 'via'), c.via)) throw loopDetected(`request already passed through ${c.via} (Via): forwarding loop`);
    if (mode === 'forward' && this.isSelf(target)) throw loopDetected(`request target ${target.host} is this proxy itself: forwarding loop`);

    // built on first use: a cache hit never needs the upstream header fields
    const build = (): string[] => {
      const headers = stripHopByHop(req.rawHeaders, this.strip);
      headers.unshift('Host', upstreamHost);
      const maxForwards = req.headers['max-forwards'];
      if (maxForwards !== undefined && (method === 'TRACE' || method === 'OPTIONS')) {
        const n = Number(maxForwards);
        if (Number.isInteger(n) && n > 0) headers.push('Max-Forwards', String(n - 1));
      } else if (maxForwards !== undefined) {
        headers.push('Max-Forwards', String(maxForwards));
      }
      const via = getRaw(req.rawHeaders, 'via');
      headers.push('Via', via ? `${via}, ${viaEntry(req.httpVersion, c.via)}` : viaEntry(req.httpVersion, c.via));
      if (c.xForwardedFor) {
        const prior = getRaw(req.rawHeaders, 'x-forwarded-for');
        headers.push('X-Forwarded-For', prior ? `${prior}, ${record.clientAddress}` : record.clientAddress);
      }
      return headers;
    };
    record.url = resourceUrl;
    let upstreamHeaders: string[] | undefined;
    return {
      req, res, method, mode, target, resourceUrl, reqHeaders: req.headers, record,
      get upstreamHeaders() { return (upstreamHeaders ??= build()); },
    };
  }

  /** Max-Forwards: 0 on TRACE/OPTIONS means this proxy answers (RFC 9110 §7.6.2). */
  answersItself(req: IncomingMessage): boolean {
    const m = req.method;
    if (m !== 'TRACE' && m !== 'OPTIONS') return false;
    const v = req.headers['max-forwards'];
    if (v === undefined) return m === 'OPTIONS' && req.url === '*' && !this.upstream;
    return String(v).trim() === '0';
  }

  private isSelf(u: URL): boolean {
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    if (port !== this.opts.listenPort()) return false;
    const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return this.localNames.has(host) || host.startsWith('127.');
  }
}

