/**
 * TLS interception: after `200 Connection established`, answer the client's TLS handshake with a leaf
 * minted by larder's CA, then hand the decrypted socket to the proxy's HTTP server so its requests take
 * the normal path (router → cache → upstream over TLS). `interceptTargetOf(req.socket)` tells the router
 * which https origin the requests on that socket belong to.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { normaliseHost } from './host.js';
import type { LeafMinter } from './mint.js';

export interface InterceptTarget {
  host: string;
  port: number;
}

/** Minimal logger (pino-compatible) for handshake diagnostics. */
export interface InterceptLogger {
  debug(obj: object, msg: string): void;
}

export interface InterceptorOptions {
  minter: LeafMinter;
  /** host patterns to intercept; empty = every host */
  hosts: string[];
  /** host patterns always tunnelled blindly (take precedence over `hosts`) */
  skip: string[];
  /** handed decrypted sockets with emit('connection') */
  server: http.Server;
  /** TLS handshake must finish within this many ms (default 10 s) */
  handshakeTimeout?: number;
  log?: InterceptLogger;
}

const targets = new WeakMap<object, InterceptTarget>();

/** The CONNECT target of a decrypted socket handed to the HTTP server, or undefined for plain sockets. */
export function interceptTargetOf(socket: unknown): InterceptTarget | undefined {
  return typeof socket === 'object' && socket !== null ? targets.get(socket) : undefined;
}

/**
 * Does `host` match `pattern`? Patterns: `example.com` (exactly), `*.example.com` (subdomains only),
 * `.example.com` (the domain and its subdomains), `*` (everything). Case-insensitive, trailing dot ignored.
 */
export function matchHostPattern(host: string, pattern: string): boolean {
  const h = normaliseHost(host);
  const p = normaliseHost(pattern);
  if (p === '*') return true;
  if (p.startsWith('*.')) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  if (p.startsWith('.')) return h === p.slice(1) || h.endsWith(p);
  return h === p;
}

export class Interceptor {
  private readonly minter: LeafMinter;
  private readonly hosts: string[];
  private readonly skip: string[];
  private readonly server: http.Server;
  private readonly handshakeTimeout: number;
  private readonly log?: InterceptLogger;
  /** handshakes that failed (client does not trust the CA, timeout, garbage) */
  handshakeFailures = 0;

  constructor(opts: InterceptorOptions) {
    this.minter = opts.minter;
    this.hosts = opts.hosts.filter((p) => p.trim() !== '');
    this.skip = opts.skip.filter((p) => p.trim() !== '');
    this.server = opts.server;
    this.handshakeTimeout = opts.handshakeTimeout ?? 10_000;
    this.log = opts.log;
  }

  shouldIntercept(host: string): boolean {
    if (this.skip.some((p) => matchHostPattern(host, p))) return false;
    return this.hosts.length === 0 || this.hosts.some((p) => matchHostPattern(host, p));
  }

  /** Terminate TLS on `clientSocket` (the CONNECT has been answered with 200) and serve it decrypted. */
  intercept(clientSocket: Duplex, head: Buffer, target: InterceptTarget): void {
    if (head.length > 0) clientSocket.unshift(head);
    const fail = (err: unknown, stage: string): void => {
      this.handshakeFailures++;
      this.log?.debug({ host: target.host, port: target.port, stage, err: (err as Error)?.message ?? String(err) }, 'TLS interception failed');
      clientSocket.destroy();
    };
    this.minter.secureContextFor(target.host).then(
      (context) => {
        if (clientSocket.destroyed) return;
        this.startTls(clientSocket, context, target, fail);
      },
      (err: unknown) => fail(err, 'mint'),
    );
  }

  private startTls(clientSocket: Duplex, context: tls.SecureContext, target: InterceptTarget, fail: (err: unknown, stage: string) => void): void {
    const connectHost = normaliseHost(target.host);
    const tlsSocket = new tls.TLSSocket(clientSocket, {
      isServer: true,
      secureContext: context,
      ALPNProtocols: ['http/1.1'],
      // The client's SNI name gets its own leaf (it may differ from the CONNECT host, e.g. an IP CONNECT).
      SNICallback: (servername, cb) => {
        if (normaliseHost(servername) === connectHost) return cb(null, context);
        this.minter.secureContextFor(servername).then((c) => cb(null, c), (err: Error) => cb(err));
      },
    });
    targets.set(tlsSocket, { host: target.host, port: target.port });
    const timer = setTimeout(() => onError(new Error('TLS handshake timed out')), this.handshakeTimeout);
    timer.unref();
    const onError = (err: unknown): void => {
      clearTimeout(timer);
      tlsSocket.destroy();
      fail(err, 'handshake');
    };
    tlsSocket.on('error', onError);
    tlsSocket.once('close', () => { clearTimeout(timer); clientSocket.destroy(); });
    tlsSocket.once('secure', () => {
      clearTimeout(timer);
      // From here the HTTP server owns the socket, including its errors.
      tlsSocket.off('error', onError);
      tlsSocket.on('error', () => tlsSocket.destroy());
      this.server.emit('connection', tlsSocket);
    });
  }
}
