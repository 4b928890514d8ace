/**
 * The admission step every client request passes, HTTP requests and CONNECT alike: the client rule
 * (which addresses may use the proxy), then proxy authentication (with its failure limit per address).
 * It returns a typed verdict; the caller turns a refusal into a response on its own transport
 * (a ServerResponse for HTTP, raw bytes on the socket for CONNECT), so both answer the same way.
 *
 * When authentication is configured and no `allow` list is given, authentication is the access rule
 * (Squid's `http_access allow authenticated`): a client outside the default loopback range is served
 * once it authenticates, and refused (403) where no authentication applies (reverse-mode requests).
 */
import type { AuthResult } from './auth.js';

/** Which clients may use the proxy (ClientAccess). */
export interface ClientRule { isAllowed(address: string | undefined): boolean }

export interface Authenticator {
  check(proxyAuthorization: string | undefined, clientAddress: string): Promise<AuthResult>;
  challenge(): string;
}

export interface Refusal {
  ok: false;
  status: 403 | 407 | 429 | 503;
  /** LARDER_ERR_* code */
  code: string;
  /** short reason for the error page */
  reason: string;
  /** Cache-Status detail token */
  detail: string;
  headers: [string, string][];
  /** close the connection after the answer (requests pipelined behind it are not processed) */
  close: boolean;
}

/** The client rule passed; `mustAuthenticate` when only authentication lets this client in. */
export interface ClientPassed { ok: true; mustAuthenticate: boolean }
export interface Admitted { ok: true; user?: string }
export type ClientVerdict = ClientPassed | Refusal;
export type Verdict = Admitted | Refusal;

export interface AdmissionOptions {
  access: ClientRule;
  auth?: Authenticator;
  /** authentication admits clients the client rule does not (auth configured, no explicit allow list) */
  authIsAccessRule?: boolean;
  onDenied?: (reason: string) => void;
  onAuthFailure?: () => void;
}

const clientDenied = (address: string | undefined): Refusal => ({
  ok: false, status: 403, code: 'LARDER_ERR_FORBIDDEN', reason: `client ${address ?? '-'} is not allowed to use this proxy`,
  detail: 'client-denied', headers: [], close: true,
});

export class Admission {
  constructor(private readonly opts: AdmissionOptions) {}

  /** True when requests must authenticate (an auth file is configured). */
  get authenticates(): boolean {
    return this.opts.auth !== undefined;
  }

  /** The client rule, checked before anything of the request is looked at. */
  client(address: string | undefined): ClientVerdict {
    if (this.opts.access.isAllowed(address)) return { ok: true, mustAuthenticate: false };
    if (this.opts.auth && this.opts.authIsAccessRule && typeof address === 'string') return { ok: true, mustAuthenticate: true };
    this.opts.onDenied?.('client');
    return clientDenied(address);
  }

  /**
   * Authentication, for a request it applies to (forward proxying, CONNECT). `client` is the verdict of
   * client(). When authentication does not apply to the request but the client rule admitted this client
   * only on condition of authenticating, pass `applies: false` to get the 403.
   */
  async authenticate(client: ClientPassed, proxyAuthorization: string | undefined, address: string, applies = true): Promise<Verdict> {
    const auth = this.opts.auth;
    if (!auth || !applies) {
      if (client.mustAuthenticate) {
        this.opts.onDenied?.('client');
        return clientDenied(address);
      }
      return { ok: true };
    }
    const a = await auth.check(proxyAuthorization, address);
    if (a.result === 'ok') return { ok: true, user: a.user };
    if (a.result !== 'missing') this.opts.onAuthFailure?.();
    if (a.result === 'limited') {
      return { ok: false, status: 429, code: 'LARDER_ERR_AUTH_LIMITED', reason: 'too many failed authentication attempts from this address', detail: 'auth-limited', headers: [], close: true };
    }
    if (a.result === 'busy') {
      return { ok: false, status: 503, code: 'LARDER_ERR_AUTH_BUSY', reason: 'too many authentication checks in progress; try again', detail: 'auth-busy', headers: [['Retry-After', '1']], close: true };
    }
    return { ok: false, status: 407, code: 'LARDER_ERR_AUTH', reason: 'proxy authentication required', detail: 'auth', headers: [['Proxy-Authenticate', auth.challenge()]], close: false };
  }

  /** Both steps, for a request authentication always applies to (CONNECT). */
  async admit(address: string | undefined, proxyAuthorization: string | undefined): Promise<Verdict> {
    const c = this.client(address);
    if (!c.ok) return c;
    return this.authenticate(c, proxyAuthorization, address ?? '-');
  }
}
