/**
 * The admin API's request handler: authentication, routing, JSON in and out.
 *
 *   GET  /healthz   {"status":"ok"}                      (no token: it tells nothing, and probes need it)
 *   GET  /metrics   Prometheus text format
 *   GET  /stats     JSON snapshot (+ info: version, uptime, config summary)
 *   POST /purge     {"url": "..."} or {"prefix": "..."}  → {"purged": n}
 *   GET  /          dashboard page (token also accepted as ?token=T here, for a browser)
 *   GET  /dashboard.js, /uplot.min.js, /uplot.min.css   public static code, no data
 *
 * Errors are short JSON objects {"error": "..."}: 400 bad JSON, 401 token, 403 Host, 404, 405 (with
 * Allow), 413 body too large, 415 not JSON, 500. Never a stack trace.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isLoopbackHost } from '../net/host.js';
import type { MetricsView } from './metrics.js';
import type { DashboardAssets } from './static.js';

export const MAX_BODY_BYTES = 64 * 1024;

export type PurgeTarget = { url: string; prefix?: undefined } | { prefix: string; url?: undefined };

export interface AdminApiOptions {
  /** required bearer token; undefined = none required (loopback listener only) */
  token?: string;
  /** the listener's own address, accepted in Host besides loopback names */
  listenHost: string;
  metrics: MetricsView;
  purge: (target: { url?: string; prefix?: string }) => Promise<number>;
  info: () => Record<string, unknown>;
  log: Logger;
  assets: DashboardAssets;
}

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

// the page loads only its own script, style and data
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

type Route = { methods: readonly string[]; auth: 'none' | 'bearer' | 'page' };
const API_ROUTES: Record<string, Route> = {
  '/healthz': { methods: ['GET', 'HEAD'], auth: 'none' },
  '/metrics': { methods: ['GET', 'HEAD'], auth: 'bearer' },
  '/stats': { methods: ['GET', 'HEAD'], auth: 'bearer' },
  '/purge': { methods: ['POST'], auth: 'bearer' },
};

export function createAdminHandler(opts: AdminApiOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const tokenDigest = opts.token === undefined ? undefined : sha256(opts.token);

  /** Constant-time comparison: both sides hashed to the same length first. */
  const tokenMatches = (candidate: string | undefined): boolean =>
    tokenDigest !== undefined && candidate !== undefined && timingSafeEqual(sha256(candidate), tokenDigest);

  const bearer = (req: IncomingMessage): string | undefined => {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    return m?.[1];
  };

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log.error({ err: (err as Error)?.message, path: req.url }, 'admin: request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      return sendJson(res, 400, { error: 'bad request target' });
    }
    const path = url.pathname === '/dashboard' ? '/' : url.pathname;
    const method = req.method ?? 'GET';
    const asset = opts.assets.get(path);
    const route: Route | undefined = API_ROUTES[path] ??
      (asset ? { methods: ['GET', 'HEAD'], auth: path === '/' ? 'page' : 'none' } : undefined);
    if (!route) return sendJson(res, 404, { error: 'not found' });
    if (!route.methods.includes(method)) {
      res.setHeader('allow', route.methods.join(', '));
      return sendJson(res, 405, { error: `method ${method} not allowed` });
    }

    if (tokenDigest === undefined) {
      // No token on a loopback listener: refuse foreign Host names, so a web page the admin visits cannot
      // reach the API through DNS rebinding.
      if (!hostAllowed(req.headers.host, opts.listenHost)) return sendJson(res, 403, { error: 'Host not allowed' });
    } else if (route.auth !== 'none') {
      const ok = tokenMatches(bearer(req)) || (route.auth === 'page' && tokenMatches(url.searchParams.get('token') ?? undefined));
      if (!ok) {
        res.setHeader('www-authenticate', 'Bearer realm="larder admin"');
        return sendJson(res, 401, { error: 'missing or wrong admin token' });
      }
    }

    if (asset) {
      const headers: Record<string, string | number> = { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length };
      if (path === '/') headers['content-security-policy'] = PAGE_CSP;
      else headers['cache-control'] = 'public, max-age=3600';
      res.writeHead(200, headers);
      res.end(asset.body);
      return;
    }

    switch (path) {
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/metrics': {
        const text = await opts.metrics.registry.metrics();
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': opts.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      case '/stats':
        return sendJson(res, 200, { ...safeInfo(), ...(await opts.metrics.snapshot()) });
      case '/purge':
        return purge(req, res);
    }
  }

  function safeInfo(): Record<string, unknown> {
    try {
      return opts.info();
    } catch (err) {
      opts.log.warn({ err: (err as Error)?.message }, 'admin: info() failed');
      return {};
    }
  }

  async function purge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Requiring JSON also makes a cross-site form post impossible (it would need a CORS preflight).
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      drain(req);
      return sendJson(res, 415, { error: 'expected Content-Type: application/json' });
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === undefined) {
      res.setHeader('connection', 'close');
      return sendJson(res, 413, { error: `request body larger than ${MAX_BODY_BYTES} bytes` });
    }
    const target = parsePurgeBody(body);
    if (typeof target === 'string') return sendJson(res, 400, { error: target });
    let purged: number;
    try {
      purged = await opts.purge(target);
    } catch (err) {
      opts.log.error({ err: (err as Error)?.message, ...target }, 'admin: purge failed');
      return sendJson(res, 500, { error: 'purge failed' });
    }
    opts.log.info({ ...target, purged }, 'admin: purged');
    return sendJson(res, 200, { purged });
  }
}

/** The purge target, or an error message. */
export function parsePurgeBody(body: Buffer): PurgeTarget | string {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return 'body is not valid JSON';
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'expected a JSON object {"url": ...} or {"prefix": ...}';
  const keys = Object.keys(doc);
  const o = doc as Record<string, unknown>;
  if (keys.length !== 1 || (keys[0] !== 'url' && keys[0] !== 'prefix')) return 'expected exactly one of "url" or "prefix"';
  const value = o[keys[0]];
  if (typeof value !== 'string' || value.length === 0) return `"${keys[0]}" must be a non-empty string`;
  return keys[0] === 'url' ? { url: value } : { prefix: value };
}

/** Read a body up to `limit` bytes; undefined when it is larger (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function drain(req: IncomingMessage): void {
  req.resume();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Host header names accepted without a token: loopback names and the listener's own address. */
export function hostAllowed(hostHeader: string | undefined, listenHost: string): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim());
  if (!m) return false;
  const host = m[1]!.replace(/^\[|\]$/g, '').toLowerCase();
  return isLoopbackHost(host) || host === listenHost.replace(/^\[|\]$/g, '').toLowerCase();
}
