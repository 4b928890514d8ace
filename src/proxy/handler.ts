/**
 * The request handler: for each client request, fills an access record, applies the access rules and
 * proxy authentication, routes it, answers what the proxy answers itself (PURGE, Max-Forwards: 0),
 * and hands the rest to the cache engine. Nothing thrown here reaches the client as a stack trace.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { Config } from '../config/load.js';
import type { AccessRecord, RequestObserver } from '../log/record.js';
import type { CacheEngine } from '../cache/engine.js';
import { formatCacheStatus } from '../http/cache-status.js';
import { ALLOWED_METHODS } from '../http/methods.js';
import { viaEntry } from '../http/via.js';
import { sendError } from './errors.js';
import { CodedError, bodyTooLarge, forbidden, internalError } from '../errors.js';
import type { Router } from './router.js';
import type { RouteMemo } from './fast-hit.js';
import { finishResponseHeaders } from './exchange.js';
import { cacheRequestOf } from './cache-request.js';
import { respond } from './respond.js';
import { parseCidrList, addressInList } from '../net/address.js';
import type { Admission, Refusal } from '../server/admission.js';

/** The options the request handler reads (a slice of Config). */
export type HandlerConfig = Pick<Config, 'idleTimeout' | 'maxRequestBody' | 'purgeAllow' | 'via'>;

export interface HostRule {
  /** reason to refuse a request from clientAddress to host:port, or undefined (DestinationPolicy.checkTarget) */
  checkTarget(host: string, port: number, clientAddress: string | undefined, ctx?: { configuredUpstream?: boolean }): string | undefined;
}

export interface HandlerDeps {
  config: HandlerConfig;
  router: Router;
  engine: CacheEngine;
  /** client rule, authentication and its failure limit (shared with CONNECT) */
  admission?: Admission;
  destination?: HostRule;
  observers: RequestObserver[];
  onDenied?: (reason: string) => void;
  onInternalError?: (err: unknown) => void;
  /** routes the fast hit path may reuse (proxy/fast-hit.ts) */
  routes?: RouteMemo;
}

/** The request body, failing with a 413 CodedError once more than `max` bytes went through. */
function limitBody(req: IncomingMessage, max: number): Readable {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(bodyTooLarge(max));
      else done(null, chunk);
    },
  });
  req.on('error', (err) => limited.destroy(err));
  limited.on('error', () => req.resume()); // drain what remains so the connection can answer
  return req.pipe(limited);
}

export function newRecord(req: IncomingMessage): AccessRecord {
  return {
    startTime: Date.now(),
    durationMs: 0,
    clientAddress: req.socket.remoteAddress ?? '-',
    clientPort: req.socket.remotePort,
    method: req.method ?? '-',
    url: req.url ?? '-',
    httpVersion: req.httpVersion,
    status: 0,
    bytesSent: 0,
    bytesReceived: Number(req.headers['content-length'] ?? 0) || 0,
    cache: 'bypass',
    cacheStatus: '',
    referer: req.headers.referer,
    userAgent: req.headers['user-agent'],
  };
}


export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const c = deps.config;
  const purgeAllow = parseCidrList(c.purgeAllow, 'purgeAllow');
  const status = (detail: string) => formatCacheStatus(c.via, { fwd: 'bypass', detail });

  // connections answered with "Connection: close": requests pipelined behind are not processed
  // https://www.rfc-editor.org/rfc/rfc9112#section-9.6
  const closing = new WeakSet<object>();
  const refuse = (res: ServerResponse, rec: AccessRecord, err: CodedError, close = false) => {
    if (close) closing.add(res.req.socket);
    rec.cache = 'error';
    rec.status = err.status;
    rec.cacheStatus = status(err.detail);
    sendError(res, err, rec.url, rec.cacheStatus, close);
  };

  const refuseAdmission = (res: ServerResponse, rec: AccessRecord, r: Refusal) =>
    refuse(res, rec, new CodedError(r.status, r.code, r.reason, r.detail, r.headers), r.close);

  return (req, res) => {
    if (closing.has(req.socket)) {
      req.resume();
      return;
    }
    const rec = newRecord(req);
    res.once('close', () => {
      rec.durationMs = Date.now() - rec.startTime;
      if (rec.status === 0) rec.status = res.statusCode;
      if (!res.writableFinished) rec.aborted = true;
      for (const o of deps.observers) {
        try { o.onRequest(rec); } catch { /* an observer never breaks serving */ }
      }
    });
    void handle(req, res, rec).catch((err) => {
      deps.onInternalError?.(err);
      refuse(res, rec, internalError(), true);
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse, rec: AccessRecord): Promise<void> {
    const admitted = deps.admission?.client(req.socket.remoteAddress);
    if (admitted && !admitted.ok) return refuseAdmission(res, rec, admitted);
    let ex;
    try {
      ex = deps.router.route(req, res, rec);
    } catch (err) {
      if (err instanceof CodedError) return refuse(res, rec, err, err.status === 400 || err.status === 414 || err.status === 431 || err.status === 505);
      throw err;
    }
    // intercepted requests were admitted with their CONNECT
    if (admitted && deps.admission?.authenticates && ex.mode !== 'intercept') {
      const v = await deps.admission.authenticate(admitted, req.headers['proxy-authorization'], rec.clientAddress, ex.mode === 'forward');
      if (!v.ok) return refuseAdmission(res, rec, v);
      if (v.user !== undefined) rec.user = v.user;
    }
    // in every mode: a reverse target is the configured upstream, exempt from the loopback rule only
    if (deps.destination) {
      const port = Number(ex.target.port || (ex.target.protocol === 'https:' ? 443 : 80));
      const why = deps.destination.checkTarget(ex.target.hostname.replace(/^\[|\]$/g, ''), port, req.socket.remoteAddress, { configuredUpstream: ex.mode === 'reverse' });
      if (why) {
        deps.onDenied?.('destination');
        return refuse(res, rec, forbidden(why, 'destination-denied'));
      }
    }
    if (deps.routes && (ex.method === 'GET' || ex.method === 'HEAD') && (ex.mode === 'forward' || ex.mode === 'reverse') && req.url !== undefined) {
      const port = Number(ex.target.port || (ex.target.protocol === 'https:' ? 443 : 80));
      deps.routes.remember(req.headers.host, req.url, {
        url: ex.resourceUrl, key: deps.engine.keyOf(ex.resourceUrl), mode: ex.mode, host: ex.target.hostname.replace(/^\[|\]$/g, ''), port,
      });
    }
    if (ex.method === 'PURGE') return purge(ex.resourceUrl, req, res, rec);
    if (deps.router.answersItself(req)) return answerItself(req, res, rec);
    if (c.maxRequestBody > 0) {
      const cl = Number(req.headers['content-length'] ?? 0);
      if (cl > c.maxRequestBody) return refuse(res, rec, bodyTooLarge(c.maxRequestBody), true);
      // a chunked body has no announced size: count it as it streams and stop at the limit
      if (req.headers['transfer-encoding'] !== undefined) ex.body = limitBody(req, c.maxRequestBody);
    }
    const bodyLength = req.headers['content-length'];
    if ((bodyLength !== undefined && bodyLength !== '0') || req.headers['transfer-encoding'] !== undefined) {
      // a request body that stalls (slow POST) must not hold this connection and an upstream one forever
      req.setTimeout(c.idleTimeout, () => req.destroy());
      req.once('end', () => req.setTimeout(0));
    }
    await respond(ex, await deps.engine.handle(cacheRequestOf(ex)), { idleTimeoutMs: c.idleTimeout });
  }

  async function purge(url: string, req: IncomingMessage, res: ServerResponse, rec: AccessRecord): Promise<void> {
    if (!addressInList(purgeAllow, req.socket.remoteAddress ?? '')) {
      return refuse(res, rec, forbidden('PURGE is not allowed from this address', 'purge-denied'));
    }
    const n = await deps.engine.purge({ url });
    const body = JSON.stringify({ purged: n, url }) + '\n';
    rec.status = n > 0 ? 200 : 404;
    rec.cacheStatus = status('purge');
    res.writeHead(rec.status, finishResponseHeaders([['Content-Type', 'application/json'], ['Content-Length', String(Buffer.byteLength(body))]], viaEntry('1.1', c.via), rec.cacheStatus));
    res.end(body);
  }

  function answerItself(req: IncomingMessage, res: ServerResponse, rec: AccessRecord): void {
    rec.status = 200;
    rec.cacheStatus = status('max-forwards');
    if (req.method === 'TRACE') {
      // RFC 9110 §9.3.8: echo the request; credentials and cookies left out
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!.toLowerCase();
        if (name === 'authorization' || name === 'proxy-authorization' || name === 'cookie') continue;
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      const body = lines.join('\r\n') + '\r\n\r\n';
      res.writeHead(200, finishResponseHeaders([['Content-Type', 'message/http'], ['Content-Length', String(Buffer.byteLength(body))]], `1.1 ${c.via}`, rec.cacheStatus));
      res.end(body);
      return;
    }
    res.writeHead(200, finishResponseHeaders([['Allow', ALLOWED_METHODS], ['Content-Length', '0']], viaEntry('1.1', c.via), rec.cacheStatus));
    res.end();
  }
}
