/**
 * The upstream client: undici Agent with per-origin keep-alive pools, connect / head / idle timeouts,
 * verified TLS, and failures turned into typed UpstreamFailures that name the cause or the timeout
 * (the proxy layer turns them into 502/504 pages).
 */
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import type { LookupFunction } from 'node:net';
import { CodedError, UpstreamFailure, type ExchangeError } from '../errors.js';

const upstreamFailed = (why: string, detail = 'upstream-error') => new UpstreamFailure('failed', why, detail);
const upstreamTimeout = (why: string) => new UpstreamFailure('timeout', why, 'timeout');

export interface UpstreamOptions {
  connectTimeout: number;
  upstreamTimeout: number;
  idleTimeout: number;
  connections: number;
  maxResponseHeaders: number;
  /** CA certificates trusted for upstream TLS (system + extra); undefined = Node's defaults */
  ca?: string[];
  /** dns.lookup-compatible resolver (destination rules pin the address here) */
  lookup?: LookupFunction;
  /** maps TLS errors to a human sentence */
  describeTlsError?: (err: unknown) => string | undefined;
}

export interface UpstreamRequest {
  url: URL;
  method: string;
  /** flat raw header array, hop-by-hop already removed, Host set */
  headers: string[];
  body?: Readable | null;
  signal?: AbortSignal;
  /** an interim (1xx) response head, before the final one */
  onInterim?: (status: number, headers: Record<string, string | string[] | undefined>) => void;
}

export interface UpstreamResponse {
  status: number;
  statusText: string;
  /** lower-case names; repeats as arrays */
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
  /** host:port of the upstream */
  address: string;
  /** ms from send to response head */
  headMs: number;
}

export class UpstreamClient {
  private readonly agent: Agent;
  constructor(private readonly opts: UpstreamOptions) {
    this.agent = new Agent({
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 4_000,
      keepAliveMaxTimeout: 60_000,
      headersTimeout: opts.upstreamTimeout,
      bodyTimeout: opts.idleTimeout,
      maxHeaderSize: 64 * 1024,
      connect: {
        timeout: opts.connectTimeout,
        ...(opts.ca ? { ca: opts.ca } : {}),
        ...(opts.lookup ? { lookup: opts.lookup } : {}),
      },
    });
  }

  /**
   * One exchange through Dispatcher.dispatch with a v7 handler: no promise-per-request RequestHandler or
   * BodyReadable/AsyncResource; the body is a plain Readable fed from onResponseData, with backpressure
   * (controller.pause/resume) and destroy() aborting the exchange. Interim 1xx heads are skipped (102/103
   * reach onResponseStart; undici itself rejects 100 and unrequested 101 as a bad response).
   * Agent-level timeouts (connect, headers, body) apply as before; errors reach classify() unchanged.
   */
  request(req: UpstreamRequest): Promise<UpstreamResponse> {
    const started = performance.now();
    const url = req.url;
    const address = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    const maxHeaders = this.opts.maxResponseHeaders;
    return new Promise<UpstreamResponse>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | undefined;
      let body: Readable | undefined;
      let settled = false;
      const signal = req.signal;
      const onAbort = (): void => { controller?.abort(signal!.reason ?? new undiciErrors.RequestAbortedError()); };
      const done = (): void => { signal?.removeEventListener('abort', onAbort); };
      const fail = (err: unknown): void => {
        done();
        if (!settled) { settled = true; reject(this.classify(err, url)); }
        else if (body && !body.destroyed) body.destroy(err as Error);
      };
      if (signal?.aborted) { fail(signal.reason ?? new undiciErrors.RequestAbortedError()); return; }
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          if (signal) { if (signal.aborted) c.abort(signal.reason); else signal.addEventListener('abort', onAbort, { once: true }); }
        },
        onResponseStart(c, statusCode, headers) {
          if (statusCode < 200) { req.onInterim?.(statusCode, headers as Record<string, string | string[] | undefined>); return; } // interim response
          const headerCount = countFields(headers);
          if (headerCount > maxHeaders) {
            const err = upstreamFailed(`upstream ${address} sent ${headerCount} header fields (limit ${maxHeaders})`, 'invalid-response');
            settled = true;
            done();
            reject(err);
            c.abort(err);
            return;
          }
          body = new Readable({
            read() { if (c.paused) c.resume(); },
            destroy(err, cb) {
              done();
              if (!c.aborted && !ended) c.abort(err ?? new undiciErrors.RequestAbortedError());
              cb(err);
            },
          });
          settled = true;
          resolve({ status: statusCode, statusText: '', headers: headers as UpstreamResponse['headers'], body, address, headMs: performance.now() - started });
        },
        onResponseData(c, chunk) {
          if (body && !body.destroyed && !body.push(chunk)) c.pause();
        },
        onResponseEnd() {
          ended = true;
          done();
          if (body && !body.destroyed) body.push(null);
        },
        onResponseError(_c, err) { fail(err); },
      };
      let ended = false;
      try {
        this.agent.dispatch({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body ?? null,
          // never follow redirects or retry: a plain dispatch does neither
        }, handler);
      } catch (err) {
        fail(err);
      }
    });
  }

  /** Classify an upstream failure. Also used for errors raised while reading the body. */
  classify(err: unknown, url: URL): ExchangeError {
    if (err instanceof UpstreamFailure || err instanceof CodedError) return err;
    // an error raised by the request body stream (e.g. the body-size limit) arrives as the cause
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof CodedError) return cause;
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.code ?? '';
    const causeCode = e.cause?.code ?? '';
    const host = url.host;
    const tls = this.opts.describeTlsError?.(err);
    if (tls) return upstreamFailed(`TLS to ${host} failed: ${tls}`, 'tls');
    if (code === 'LARDER_DESTINATION_DENIED' || causeCode === 'LARDER_DESTINATION_DENIED') {
      return new UpstreamFailure('denied', e.message ?? e.cause?.message ?? 'destination denied', 'destination-denied');
    }
    if (code === 'LARDER_DNS_TIMEOUT' || causeCode === 'LARDER_DNS_TIMEOUT') return upstreamTimeout(e.message ?? e.cause?.message ?? `DNS lookup of ${url.hostname} timed out`);
    if (err instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return upstreamTimeout(`connecting to ${host} timed out after ${this.opts.connectTimeout} ms`);
    }
    if (err instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
      return upstreamTimeout(`${host} sent no response head within ${this.opts.upstreamTimeout} ms`);
    }
    if (err instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
      return upstreamTimeout(`${host} sent no body bytes for ${this.opts.idleTimeout} ms`);
    }
    const c = code || causeCode;
    switch (c) {
      case 'ECONNREFUSED': return upstreamFailed(`${host} refused the connection`, 'connect-refused');
      case 'ENOTFOUND': case 'EAI_AGAIN': return upstreamFailed(`DNS lookup of ${url.hostname} failed (${c})`, 'dns');
      case 'ECONNRESET': case 'EPIPE': case 'UND_ERR_SOCKET': return upstreamFailed(`${host} closed or reset the connection`, 'reset');
      case 'EHOSTUNREACH': case 'ENETUNREACH': return upstreamFailed(`${host} is unreachable (${c})`, 'unreachable');
      case 'ETIMEDOUT': return upstreamTimeout(`connecting to ${host} timed out`);
      case 'HPE_INVALID_CONSTANT': case 'HPE_INVALID_STATUS': case 'HPE_INVALID_VERSION': case 'HPE_INVALID_HEADER_TOKEN':
      case 'HPE_UNEXPECTED_CONTENT_LENGTH': case 'HPE_INVALID_CONTENT_LENGTH': case 'HPE_INVALID_TRANSFER_ENCODING':
      case 'HPE_INVALID_CHUNK_SIZE': case 'HPE_HEADER_OVERFLOW': case 'UND_ERR_HEADERS_OVERFLOW': case 'HPE_LF_EXPECTED':
      case 'HPE_CR_EXPECTED': case 'HPE_STRICT': case 'HPE_INVALID_EOF_STATE': case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
        return upstreamFailed(`${host} sent an invalid response (${c})`, 'invalid-response');
      case 'UND_ERR_ABORTED': return upstreamFailed(`request to ${host} was aborted`, 'aborted');
      case 'UND_ERR_INFO': case 'UND_ERR_NOT_SUPPORTED':
        return upstreamFailed(`${host} sent a response larder does not accept (${e.message ?? c})`, 'invalid-response');
    }
    if (/^HPE_/.test(c) || err instanceof undiciErrors.HTTPParserError) {
      return upstreamFailed(`${host} sent an invalid response (${c || 'parse error'})`, 'invalid-response');
    }
    if (err instanceof undiciErrors.SocketError) return upstreamFailed(`${host} closed or reset the connection`, 'reset');
    return upstreamFailed(`request to ${host} failed: ${e.message ?? String(err)}`, 'upstream-error');
  }

  /** Close the pools: idle connections now, requests still running are cut after graceMs. */
  async close(graceMs = 0): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = setTimeout(() => { this.agent.destroy().then(resolve, resolve); }, graceMs);
    });
    await Promise.race([this.agent.close().catch(() => this.agent.destroy()), cut]);
    clearTimeout(timer);
  }
}

/** header fields in an undici header object (repeats as arrays) */
function countFields(headers: Record<string, string | string[] | undefined>): number {
  let n = 0;
  for (const k in headers) { const v = headers[k]; n += Array.isArray(v) ? v.length : 1; }
  return n;
}
