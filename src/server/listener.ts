/**
 * The proxy listener: node:http with the limits that keep a hostile or slow client from hurting others
 * (head size and time, keep-alive idle, connection caps), clear answers to malformed input (400/408/
 * 414/431 and the connection closed), and a graceful, bounded shutdown. It knows nothing of caching.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import type { Socket } from 'node:net';
import { createFastFront, handedOff, type FastFront } from './fast-front.js';
import type { FastRequest } from './fast-request.js';
import type { Config } from '../config/load.js';
import { rawErrorResponse, errorBody } from '../proxy/errors.js';
import { formatCacheStatus } from '../http/cache-status.js';

/** The options the listener reads (a slice of Config). */
export type ListenerConfig = Pick<Config, 'headersTimeout' | 'keepAliveTimeout' | 'maxConnections' | 'maxHeaderSize' | 'maxHeaders' | 'maxUrlLength' | 'via'>;

export interface ListenerDeps {
  config: ListenerConfig;
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  onConnect?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** returns false to refuse a new connection (total / per-client caps) */
  admit?: (socket: Socket) => boolean;
  onConnection?: (delta: 1 | -1) => void;
  onClientError?: (code: string) => void;
  /** the fast hit path: a front that answers plain hits itself and hands every other request to node:http */
  fast?: {
    /** once per connection: may its requests take the fast path (the client rule) */
    allowed: (socket: Socket) => boolean;
    serve: (socket: Socket, req: FastRequest) => boolean;
  };
}

/** Map a parser error to the status larder answers with (RFC 9112 §2.2, RFC 9110 §15.5). */
function statusForClientError(code: string | undefined, parserReason?: string): [number, string] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW': return [431, 'request head too large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT': return [408, 'request head not received in time'];
    case 'HPE_URI_TOO_LONG': return [414, 'request target too long'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH': return [400, 'both Content-Length and Transfer-Encoding (request smuggling risk)'];
    case 'HPE_INVALID_CONTENT_LENGTH': return [400, 'invalid or conflicting Content-Length'];
    case 'HPE_INVALID_TRANSFER_ENCODING': return [400, 'invalid Transfer-Encoding (chunked must be final)'];
    case 'HPE_INVALID_CHUNK_SIZE': return [400, 'invalid chunk size'];
    case 'HPE_INVALID_HEADER_TOKEN': return [400, 'invalid character in a header field'];
    case 'HPE_INVALID_METHOD': return [400, 'invalid request method'];
    case 'HPE_INVALID_URL': return [400, 'invalid request target'];
    case 'HPE_INVALID_VERSION':
      // llhttp says "Invalid HTTP version" for a well-formed but unknown version (HTTP/1.2, HTTP/3.0): 505
      return parserReason === 'Invalid HTTP version' ? [505, 'HTTP version not supported: larder speaks HTTP/1.0 and HTTP/1.1'] : [400, 'invalid HTTP version'];
    case 'HPE_LF_EXPECTED': case 'HPE_CR_EXPECTED': case 'HPE_STRICT': return [400, 'malformed line ending (bare CR or LF)'];
    default: return [400, 'malformed request'];
  }
}

/** CONNECT sockets (tunnels, and those still being admitted or refused) of each listener */
const detachedSockets = new WeakMap<http.Server, Set<Duplex>>();

/** the fast front listening in front of each listener that has one */
const fronts = new WeakMap<http.Server, FastFront>();

/** The server that listens on the port: the fast front when there is one, else node:http itself. */
export function listeningServer(server: http.Server): net.Server {
  return fronts.get(server)?.server ?? server;
}

export function createListener(deps: ListenerDeps): http.Server {
  const c = deps.config;
  const server = http.createServer({
    maxHeaderSize: c.maxHeaderSize,
    requireHostHeader: false, // checked by the router, so the 400 carries larder's reason and Cache-Status
    keepAliveTimeout: c.keepAliveTimeout,
    headersTimeout: c.headersTimeout,
    requestTimeout: 0,
    connectionsCheckingInterval: Math.min(1000, c.headersTimeout),
    noDelay: true,
    insecureHTTPParser: false,
  });
  server.maxHeadersCount = c.maxHeaders + 1;
  server.maxConnections = c.maxConnections;
  server.maxRequestsPerSocket = 0;

  server.on('connection', (socket: Socket) => {
    if (handedOff(socket)) return; // admitted and counted by the fast front
    if (deps.admit && !deps.admit(socket)) {
      socket.destroy();
      return;
    }
    deps.onConnection?.(1);
    socket.once('close', () => deps.onConnection?.(-1));
  });
  server.on('request', deps.onRequest);
  const onConnect = deps.onConnect;
  if (onConnect) {
    const detached = new Set<Duplex>();
    detachedSockets.set(server, detached);
    server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // node:http removed its own 'error' listener before emitting 'connect': a reset from here on would
      // be an uncaught exception. The socket is ours now, and so are its errors.
      socket.on('error', () => socket.destroy());
      // CONNECT sockets leave the server's connection list: shutdown() cuts them itself
      detached.add(socket);
      socket.once('close', () => detached.delete(socket));
      onConnect(req, socket, head);
    });
  }
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    deps.onClientError?.(err.code ?? 'unknown');
    const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (pending?.req.complete && err.code !== 'ECONNRESET' && socket.writable) {
      // the pending request was read in full: the bad bytes are what follows it (e.g. an unframed body after a
      // DELETE), not part of it. It is answered as usual, the connection closes after it, the bytes are dropped.
      if (!pending.headersSent) pending.shouldKeepAlive = false;
      else pending.once('finish', () => { socket.end(); setTimeout(() => socket.destroy(), 1000).unref(); });
      return;
    }
    if (err.code === 'ECONNRESET' || !socket.writable || (pending && pending.headersSent)) {
      socket.destroy();
      return;
    }
    const [status, reason] = statusForClientError(err.code, (err as { reason?: string }).reason);
    const cacheStatus = formatCacheStatus(c.via, { fwd: 'bypass', detail: status === 408 ? 'timeout' : 'bad-request' });
    if (pending) {
      // the head was accepted but the body framing is invalid (bad chunk size, Transfer-Encoding without
      // final chunked): answer 400 on the pending response, abort the upstream request streaming this
      // body (it never completes), and close. https://www.rfc-editor.org/rfc/rfc9112#section-6.3
      const body = errorBody(status, reason, undefined);
      pending.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Status': cacheStatus, 'Cache-Control': 'no-store', Connection: 'close' });
      pending.end(body, () => socket.destroy());
      pending.req.destroy(err);
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    socket.end(rawErrorResponse(status, reason, undefined, cacheStatus));
    setTimeout(() => socket.destroy(), 1000).unref();
  });
  if (deps.fast) {
    const front = createFastFront({
      http: server,
      limits: { maxHeaderSize: c.maxHeaderSize, maxHeaders: c.maxHeaders, maxUrlLength: c.maxUrlLength },
      keepAliveTimeoutMs: c.keepAliveTimeout,
      admit: deps.admit, onConnection: deps.onConnection,
      fastAllowed: deps.fast.allowed, serve: deps.fast.serve,
    });
    front.server.maxConnections = c.maxConnections;
    // node:http starts its head/keep-alive timeout checks when it listens; here the front listens for it
    front.server.on('listening', () => server.emit('listening'));
    fronts.set(server, front);
  }
  return server;
}

/**
 * Stop accepting, let in-flight requests and open CONNECT tunnels finish within timeoutMs, then cut what
 * remains: the whole shutdown is bounded, tunnels included.
 */
export async function shutdown(server: http.Server, timeoutMs: number): Promise<void> {
  const front = fronts.get(server);
  // with a front, node:http never listened: its close() only ends what was handed to it
  // (the front's close waits for every connection it accepted, those handed to node:http included)
  const closed = front
    ? new Promise<void>((resolve) => front.server.close(() => { server.close(() => resolve()); }))
    : new Promise<void>((resolve) => server.close(() => resolve()));
  front?.closeIdle();
  server.closeIdleConnections();
  const timer = setTimeout(() => {
    server.closeAllConnections();
    front?.destroyAll();
    for (const socket of detachedSockets.get(server) ?? []) socket.destroy();
  }, timeoutMs);
  timer.unref();
  const idle = setInterval(() => server.closeIdleConnections(), 200);
  idle.unref();
  await closed;
  clearTimeout(timer);
  clearInterval(idle);
}
