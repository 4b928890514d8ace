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

/** only-if-cached and nothing stored satisfies it (RFC 9111 §5.2.1.7) */
export const notCached = () => new CodedError(504, 'LARDER_ERR_ONLY_IF_CACHED', 'only-if-cached: no stored response satisfies the request', 'only-if-cached');
