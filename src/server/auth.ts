/**
 * Basic proxy authentication against an htpasswd file.
 * Proxy-Authorization: https://www.rfc-editor.org/rfc/rfc9110#section-11.7.2
 * Proxy-Authenticate:  https://www.rfc-editor.org/rfc/rfc9110#section-11.7.1
 * Basic scheme (user-id ":" password, base64, charset UTF-8): https://www.rfc-editor.org/rfc/rfc7617
 *
 * Successful verifications are cached for a short time (keyed by an HMAC of the credentials with a
 * per-process random key, so the cache holds no password) so bcrypt does not run on every request.
 * Failures are counted per client address; past the limit the client gets 'limited' (→ 429) without
 * a password check, which also bounds the CPU an attacker can make us spend on hashing. A check is
 * counted as a failure when it starts and refunded when the password verifies, so guesses sent in
 * parallel cannot all be hashed before the first failure is counted: at most `max` checks per address
 * run at once. Concurrent checks of the same credentials share one verification (and one count).
 * bcrypt runs in worker threads (HashPool), with a bounded queue: past it a check answers 'busy' (503).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashProblem, loadHtpasswd, verifyPassword } from './htpasswd.js';
import { normalizeAddress } from '../net/address.js';
import type { RateLimiter } from './rate-limit.js';
import { HashPool, HashPoolBusyError } from './hash-pool.js';

export type AuthResult = { result: 'ok'; user: string } | { result: 'missing' | 'invalid' | 'limited' | 'busy' };

/** Checks a password against a stored hash. */
export type PasswordVerifier = (hash: string, password: string) => Promise<boolean>;

/** bcrypt hashes are checked in `pool`'s worker threads; the other schemes (scrypt on libuv's pool, SHA-crypt) as before. */
export function pooledVerifier(pool: HashPool): PasswordVerifier {
  return async (hash, password) => {
    if (!hash.startsWith('$2') || hashProblem(hash) !== undefined) return verifyPassword(hash, password);
    const made = Buffer.from((await pool.bcrypt(password, hash.slice(0, 29))).slice(29));
    const stored = Buffer.from(hash.slice(29));
    return made.length === stored.length && timingSafeEqual(made, stored);
  };
}

export interface ProxyAuthOptions {
  /** htpasswd file */
  file: string;
  realm: string;
  /** counts failed attempts per client address */
  limiter?: RateLimiter;
  /** how long a verified credential is remembered (default 60 s) */
  cacheTtlMs?: number;
  /** verified credentials remembered at most (default 1024) */
  cacheMax?: number;
  /** clock, for tests */
  now?: () => number;
  /** password check (default: bcrypt in a shared worker pool) */
  verify?: PasswordVerifier;
}

let sharedPool: HashPool | undefined;

interface Verified {
  user: string;
  expires: number;
}

export class ProxyAuth {
  private readonly users: Map<string, string>;
  private readonly realm: string;
  /** the failure limiter (its `evictions` is a metric) */
  readonly limiter: RateLimiter | undefined;
  private readonly ttl: number;
  private readonly cacheMax: number;
  private readonly now: () => number;
  private readonly cacheKey = randomBytes(32);
  private readonly verified = new Map<string, Verified>();
  /** in-flight verifications by credential key: concurrent requests with the same credentials hash once */
  private readonly pending = new Map<string, Promise<string | undefined>>();
  private readonly verifyPassword: PasswordVerifier;

  /** Reads the file now; throws a ConfigError when it is unreadable or holds a weak hash. */
  constructor(opts: ProxyAuthOptions) {
    this.realm = opts.realm;
    this.limiter = opts.limiter;
    this.ttl = opts.cacheTtlMs ?? 60_000;
    this.cacheMax = Math.max(1, opts.cacheMax ?? 1024);
    this.now = opts.now ?? Date.now;
    this.verifyPassword = opts.verify ?? pooledVerifier(sharedPool ??= new HashPool());
    this.users = loadHtpasswd(opts.file);
  }

  /** Value of Proxy-Authenticate for a 407 (RFC 7617 §2, §2.1 charset). */
  challenge(): string {
    return `Basic realm="${quote(this.realm)}", charset="UTF-8"`;
  }

  /** Number of users loaded. */
  get userCount(): number {
    return this.users.size;
  }

  async check(proxyAuthorization: string | undefined, clientAddress: string): Promise<AuthResult> {
    const credentials = parseBasic(proxyAuthorization);
    // no Basic credentials at all (or another scheme): challenge, nothing to count
    if (credentials === undefined) return { result: 'missing' };
    // a limited client is refused before the verified-credentials cache is consulted: otherwise a guess
    // equal to a recently verified password still answers 'ok' during the lockout (a brute-force oracle)
    const client = normalizeAddress(clientAddress)?.address ?? clientAddress;
    if (this.limiter?.isLimited(client)) return { result: 'limited' };

    const key = createHmac('sha256', this.cacheKey).update(credentials).digest('base64');
    const now = this.now();
    const cached = this.verified.get(key);
    if (cached && cached.expires > now) return { result: 'ok', user: cached.user };
    if (cached) this.verified.delete(key);

    let work = this.pending.get(key);
    // a new verification counts as a failure from its start, refunded when it succeeds; joining one
    // already running for the same credentials costs no hashing and is not counted again
    const counted = work === undefined && this.limiter !== undefined;
    if (!work) {
      this.limiter?.hit(client);
      work = this.verify(credentials).finally(() => this.pending.delete(key));
      this.pending.set(key, work);
    }
    let user: string | undefined;
    try {
      user = await work;
    } catch (err) {
      if (counted) this.limiter!.refund(client);
      if (err instanceof HashPoolBusyError) return { result: 'busy' };
      throw err;
    }
    if (user === undefined) return { result: 'invalid' };
    if (counted) this.limiter!.refund(client);
    this.remember(key, user);
    return { result: 'ok', user };
  }

  /** The user name when the credentials verify, else undefined. */
  private async verify(credentials: string): Promise<string | undefined> {
    const colon = credentials.indexOf(':');
    if (colon < 0) return undefined;
    const user = credentials.slice(0, colon);
    const password = credentials.slice(colon + 1);
    const hash = this.users.get(user);
    if (hash === undefined) {
      // spend the same work for an unknown user as for a known one, so timing does not tell which names exist
      const any = this.users.values().next();
      if (!any.done) await this.verifyPassword(any.value, password);
      return undefined;
    }
    return (await this.verifyPassword(hash, password)) ? user : undefined;
  }

  private remember(key: string, user: string): void {
    if (this.verified.size >= this.cacheMax) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(key, { user, expires: this.now() + this.ttl });
  }
}

/**
 * The decoded `user:password` of a Basic Proxy-Authorization value, or undefined when the field is
 * absent, names another scheme, or is not valid base64 / UTF-8.
 * credentials = auth-scheme [ 1*SP token68 ] (RFC 9110 §11.4), scheme case-insensitive (§11.1).
 */
export function parseBasic(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const m = /^[ \t]*basic +([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(value);
  if (!m) return undefined;
  const token = m[1]!;
  if (token.length % 4 === 1) return undefined;
  const bytes = Buffer.from(token, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Escape for a quoted-string (RFC 9110 §5.6.4). */
function quote(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');
}
