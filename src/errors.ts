/**
 * Coded error values shared by the stages, so that no stage imports another stage's error module.
 * A CodedError carries the HTTP status larder answers with and the Cache-Status detail token; an
 * UpstreamFailure says why the upstream exchange failed and leaves the answer (502, 504, 403) to the proxy.
 */

/** A bad option, flag, file or config entry: the message names the key and what was expected (the CLI prints it, exits 2). */
export class ConfigError extends Error {
  readonly code = 'LARDER_ERR_CONFIG';
}

export class CodedError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Cache-Status detail token */
    readonly detail: string = code.toLowerCase().replace(/^larder_err_/, '').replace(/_/g, '-'),
    readonly extraHeaders: [string, string][] = [],
  ) {
    super(message);
  }
}

/** timeout: no answer in time (504); denied: the destination rules refused the address; failed: anything else (502) */
export type UpstreamFailureKind = 'timeout' | 'denied' | 'failed';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    /** Cache-Status detail token naming the cause: connect-refused, reset, dns, timeout, tls, ... */
    readonly detail: string,
  ) {
    super(message);
  }

  /** The origin could not be reached or closed without a response ("disconnected", RFC 9111 §4.2.4). */
  get disconnected(): boolean {
    return this.kind !== 'denied' && this.detail !== 'invalid-response' && this.detail !== 'aborted';
  }
}

/** What an upstream exchange can fail with: a failure of its own, or a coded error raised by the request body (413). */
export type ExchangeError = UpstreamFailure | CodedError;

/** The destination rules (src/proxy/destination.ts) refused a host, port or resolved address. */
export class DestinationDeniedError extends Error {
  readonly code = 'LARDER_DESTINATION_DENIED';
  constructor(message: string, readonly host: string, readonly rule: string, readonly address?: string) {
    super(message);
    this.name = 'DestinationDeniedError';
  }
}

// ---- the answers larder gives itself (status, LARDER_ERR_* code, Cache-Status detail) ----

export const badRequest = (why: string) => new CodedError(400, 'LARDER_ERR_BAD_REQUEST', why, 'bad-request');
export const forbidden = (why: string, detail = 'denied') => new CodedError(403, 'LARDER_ERR_FORBIDDEN', why, detail);
export const bodyTooLarge = (max: number) => new CodedError(413, 'LARDER_ERR_BODY_TOO_LARGE', `request body larger than ${max} bytes`, 'body-too-large');
export const uriTooLong = (max: number) => new CodedError(414, 'LARDER_ERR_URI_TOO_LONG', `request target longer than ${max} bytes`, 'uri-too-long');
export const tooManyHeaders = (max: number) => new CodedError(431, 'LARDER_ERR_HEADERS', `more than ${max} header fields`, 'too-many-headers');
export const internalError = () => new CodedError(500, 'LARDER_ERR_INTERNAL', 'internal proxy error', 'internal');
export const versionNotSupported = (version: string) =>
  new CodedError(505, 'LARDER_ERR_VERSION', `HTTP/${version} is not supported: larder speaks HTTP/1.0 and HTTP/1.1`, 'version-not-supported');
export const loopDetected = (why: string) => new CodedError(508, 'LARDER_ERR_LOOP', why, 'loop');

/** The answer to a failed upstream exchange: 504 for a timeout, 403 for a denied destination, else 502. */
export function answerForExchangeError(err: ExchangeError): CodedError {
  if (err instanceof CodedError) return err;
  if (err.kind === 'timeout') return new CodedError(504, 'LARDER_ERR_GATEWAY_TIMEOUT', err.message, err.detail);
  if (err.kind === 'denied') return new CodedError(403, 'LARDER_ERR_DESTINATION', err.message, err.detail);
  return new CodedError(502, 'LARDER_ERR_BAD_GATEWAY', err.message, err.detail);
}

/** only-if-cached and nothing stored satisfies it (RFC 9111 §5.2.1.7) */
export const notCached = () => new CodedError(504, 'LARDER_ERR_ONLY_IF_CACHED', 'only-if-cached: no stored response satisfies the request', 'only-if-cached');
