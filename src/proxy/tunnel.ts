/**
 * CONNECT (RFC 9110 §9.3.6, https://www.rfc-editor.org/rfc/rfc9110#section-9.3.6): a blind TCP tunnel to
 * host:port, or, when an interceptor wants the host, TLS terminated with larder's CA.
 *
 * Every error is answered before the tunnel opens (403 port/destination, 400 bad target, 502 unreachable,
 * 504 connect timeout); once `200 Connection established` is sent, the bytes are the client's.
 */
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Config } from '../config/load.js';
import type { AccessRecord, CacheResult } from '../log/record.js';
import type { Interceptor } from '../tls/intercept.js';
import { rawErrorResponse } from './errors.js';
import { parsePortRanges, portInRanges } from '../net/ports.js';
import { formatCacheStatus } from '../http/cache-status.js';

/** The options CONNECT reads (a slice of Config). */
export type TunnelConfig = Pick<Config, 'connectPorts' | 'connectTimeout' | 'idleTimeout' | 'via'>;

export interface ConnectDeps {
  config: TunnelConfig;
  /** destination check from the safety layer (deny lists, DNS pinning); returns a reason to refuse with 403, or undefined */
  checkDestination?: (host: string, port: number, clientAddress?: string) => Promise<string | undefined>;
  /** an intercept engine, when --intercept is on */
  interceptor?: Interceptor;
  /** called once per CONNECT when it ends, with a record for the access log/metrics */
  onRecord?: (record: AccessRecord) => void;
  /** called with +1/-1 as tunnels open/close (metrics gauge) */
  onTunnel?: (delta: 1 | -1) => void;
  /** dns.lookup-compatible resolver that refuses denied addresses (DestinationPolicy.lookup) */
  lookup?: net.LookupFunction;
  /**
   * The destination rules and the one DNS resolution of a CONNECT (DestinationPolicy.resolveForConnect):
   * the address to connect to, or a DestinationDeniedError (403) / DNS error (502, 504 on timeout).
   * The tunnel connects to exactly this address: the name is not looked up a second time.
   */
  resolveDestination?: (host: string, port: number) => Promise<{ address: string; family: number }>;
}

export interface ConnectTarget {
  host: string;
  port: number;
}

/** how long a client may keep a socket open after an error response before it is destroyed */
const LINGER_MS = 2_000;


/**
 * Parse a CONNECT request-target: authority-form `host:port` only (RFC 9112 §3.2.3,
 * https://www.rfc-editor.org/rfc/rfc9112#section-3.2.3); IPv6 literals in brackets. Undefined when malformed.
 */
export function parseConnectTarget(target: string | undefined): ConnectTarget | undefined {
  if (target === undefined) return undefined;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  if (m[1] !== undefined) return net.isIPv6(m[1]) ? { host: m[1], port } : undefined;
  const host = m[2]!;
  if (host.length > 253 || host.startsWith('.') || host.includes('..')) return undefined;
  return { host, port };
}

function authorityOf(t: ConnectTarget): string {
  return net.isIPv6(t.host) ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

/** Why a connect failed, in words for the 502 body, plus the error kind for the access record. */
function describeConnectError(err: NodeJS.ErrnoException, authority: string, host: string): { status: number; text: string; kind: string } {
  switch (err.code) {
    case 'ECONNREFUSED': return { status: 502, text: `connection refused by ${authority}`, kind: 'refused' };
    case 'ENOTFOUND': return { status: 502, text: `DNS lookup failed: ${host} not found`, kind: 'dns' };
    case 'EAI_AGAIN': return { status: 502, text: `DNS lookup for ${host} failed temporarily`, kind: 'dns' };
    case 'ECONNRESET': return { status: 502, text: `connection reset by ${authority}`, kind: 'reset' };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return { status: 502, text: `${authority} is unreachable`, kind: 'connect' };
    case 'ETIMEDOUT': return { status: 504, text: `connecting to ${authority} timed out`, kind: 'timeout' };
    case 'LARDER_DESTINATION_DENIED': return { status: 403, text: err.message, kind: 'denied' };
    case 'LARDER_DNS_TIMEOUT': return { status: 504, text: err.message, kind: 'dns-timeout' };
    default: return { status: 502, text: `cannot connect to ${authority} (${err.code ?? err.message})`, kind: 'connect' };
  }
}

export function handleConnect(req: IncomingMessage, clientSocket: Duplex, head: Buffer, deps: ConnectDeps): void {
  const { config } = deps;
  const startTime = Date.now();
  const cacheStatus = formatCacheStatus(config.via, { fwd: 'bypass', detail: 'connect' });
  let recorded = false;
  let status = 0;
  let cache: CacheResult = 'bypass';
  let upstream: net.Socket | undefined;
  let upstreamError: string | undefined;
  const target = parseConnectTarget(req.url);

  const record = (): void => {
    if (recorded) return;
    recorded = true;
    const sock = clientSocket as Partial<net.Socket>;
    deps.onRecord?.({
      startTime,
      durationMs: Date.now() - startTime,
      clientAddress: req.socket?.remoteAddress ?? '',
      clientPort: req.socket?.remotePort,
      method: 'CONNECT',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      status,
      bytesSent: upstream ? upstream.bytesRead : Math.max(0, (sock.bytesWritten ?? 0)),
      bytesReceived: upstream ? upstream.bytesWritten : Math.max(0, (sock.bytesRead ?? 0)),
      cache,
      cacheStatus,
      upstreamAddress: target && upstream ? authorityOf(target) : undefined,
      upstreamError,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
    });
  };

  // Errors before the tunnel opens (client gone) must never be unhandled.
  clientSocket.on('error', () => clientSocket.destroy());
  clientSocket.once('close', record);

  const refuse = (code: number, text: string): void => {
    if (status !== 0) return;
    status = code;
    cache = 'error';
    if (clientSocket.destroyed) return;
    clientSocket.end(rawErrorResponse(code, text, req.url, cacheStatus));
    // Drain whatever the client still sends and give it a moment to read the answer, then close.
    clientSocket.resume();
    const linger = setTimeout(() => clientSocket.destroy(), LINGER_MS);
    linger.unref();
    clientSocket.once('close', () => clearTimeout(linger));
    clientSocket.once('end', () => clientSocket.destroy());
  };

  if (!target) return refuse(400, 'CONNECT needs a host:port target');
  if (!portInRanges(target.port, parsePortRanges(config.connectPorts, 'connectPorts'))) {
    return refuse(403, `CONNECT to port ${target.port} is not allowed (connectPorts: ${config.connectPorts.join(', ')})`);
  }

  // connect-timeout bounds the name lookup and the connect together
  const deadline = startTime + config.connectTimeout;
  void (async () => {
    // the rules that need no lookup first (own listeners, loopback for remote clients), then the one lookup
    if (deps.checkDestination) {
      let reason: string | undefined;
      try {
        reason = await deps.checkDestination(target.host, target.port, req.socket?.remoteAddress);
      } catch (err) {
        return refuse(502, `cannot check destination ${authorityOf(target)} (${(err as Error).message ?? String(err)})`);
      }
      if (reason !== undefined) return refuse(403, reason);
    }
    let resolved: { address: string; family: number } | undefined;
    if (deps.resolveDestination) {
      try {
        resolved = await deps.resolveDestination(target.host, target.port);
      } catch (err) {
        const d = describeConnectError(err as NodeJS.ErrnoException, authorityOf(target), target.host);
        upstreamError = d.kind;
        return refuse(d.status, d.text);
      }
    }
    if (clientSocket.destroyed) return;
    if (deps.interceptor?.shouldIntercept(target.host)) return openIntercepted(target, deps.interceptor);
    openBlind(target, resolved);
  })().catch((err: unknown) => {
    // A bug, not a network condition: answer if we still can, never leave the socket hanging.
    if (status === 0) refuse(500, 'internal error while opening the tunnel');
    else clientSocket.destroy();
    upstreamError ??= `internal: ${(err as Error)?.message ?? String(err)}`;
  });

  function established(): void {
    status = 200;
    deps.onTunnel?.(1);
    clientSocket.once('close', () => deps.onTunnel?.(-1));
    clientSocket.write(`HTTP/1.1 200 Connection established\r\nCache-Status: ${cacheStatus}\r\n\r\n`);
  }

  function openIntercepted(t: ConnectTarget, interceptor: Interceptor): void {
    established();
    interceptor.intercept(clientSocket, head, t);
  }

  function openBlind(t: ConnectTarget, resolved: { address: string; family: number } | undefined): void {
    const authority = authorityOf(t);
    // the address checked is the address connected to (no DNS rebinding): either the one resolved above,
    // or the destination rules' lookup
    const up = resolved
      ? net.connect({ host: resolved.address, family: resolved.family, port: t.port, allowHalfOpen: true })
      : net.connect({ host: t.host, port: t.port, allowHalfOpen: true, ...(deps.lookup ? { lookup: deps.lookup } : {}) });
    upstream = up;
    let connected = false;
    const connectTimer = setTimeout(() => {
      upstreamError = 'timeout';
      up.destroy();
      refuse(504, `connecting to ${authority} timed out after ${config.connectTimeout} ms`);
    }, Math.max(0, deadline - Date.now()));
    const abortEarly = (): void => { if (!connected) { clearTimeout(connectTimer); up.destroy(); } };
    clientSocket.once('close', abortEarly);

    up.on('error', (err: NodeJS.ErrnoException) => {
      if (connected) return;
      clearTimeout(connectTimer);
      const d = describeConnectError(err, authority, t.host);
      upstreamError = d.kind;
      refuse(d.status, d.text);
    });

    up.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      clientSocket.off('close', abortEarly);
      if (clientSocket.destroyed) { up.destroy(); return; }
      established();
      if (head.length > 0) up.write(head);
      splice(clientSocket, up, config.idleTimeout, (kind) => { upstreamError ??= kind; });
    });
  }
}

/**
 * Relay bytes both ways with backpressure (pipe). A side that ends its write side (FIN) has the other
 * side's write side ended in turn (half-close); an error or close on either destroys both; no bytes in
 * either direction for `idleMs` destroys both.
 */
function splice(client: Duplex, upstream: net.Socket, idleMs: number, onProblem: (kind: string) => void): void {
  let closed = 0;
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  const idle = setTimeout(() => { onProblem('idle'); destroyBoth(); }, idleMs);
  idle.unref();
  const touch = (): void => { idle.refresh(); };

  client.pipe(upstream);
  upstream.pipe(client);
  client.on('data', touch);
  upstream.on('data', touch);
  client.on('error', destroyBoth);
  upstream.on('error', () => { onProblem('reset'); destroyBoth(); });
  // A side that closed after finishing both directions (autoDestroy) leaves the other to flush what it
  // still holds and end by itself; a side torn down early (error, destroy) takes the other with it.
  const onClose = (side: Duplex) => (): void => {
    if (++closed === 2) clearTimeout(idle);
    if (!(side.readableEnded && side.writableFinished)) destroyBoth();
  };
  client.once('close', onClose(client));
  upstream.once('close', onClose(upstream));
}
