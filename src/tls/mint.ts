/**
 * Leaf certificates for intercepted hosts, signed by larder's CA and cached per host name.
 *
 * One ECDSA P-256 key pair serves every leaf (a signature per new host, no key generation), the cache is
 * a bounded LRU, and concurrent handshakes for the same host share one minting promise.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { normaliseHost } from './host.js';
import tls from 'node:tls';
import { LRUCache } from 'lru-cache';
import type { CaMaterial } from './ca.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** 365 days: below the 398-day limit some clients (Apple) apply even to locally trusted CAs */
const LEAF_VALIDITY_MS = 365 * DAY;
/** tolerate clients whose clock is a little behind */
const LEAF_BACKDATE_MS = HOUR;
/** re-mint a cached leaf this long before it expires */
const LEAF_RENEW_MS = DAY;

export class MintError extends Error {
  readonly code = 'LARDER_ERR_MINT';
  constructor(message: string) {
    super(message);
    this.name = 'MintError';
  }
}

interface Minted {
  context: tls.SecureContext;
  notAfter: number;
}

export interface LeafMinterOptions {
  /** most host names kept (default 1000) */
  maxHosts?: number;
}

// normaliseHost lives in host.ts (no x509 there), so intercept.ts and the router can load without this module
export { normaliseHost } from './host.js';

/** Host names we are willing to put in a certificate (RFC 1123 labels; `_` tolerated as browsers do). */
function isCertifiableName(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((l) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l));
}

export class LeafMinter {
  private readonly cache: LRUCache<string, Promise<Minted>>;
  private leafKeys?: Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string }>;
  private authorityKeyId?: Promise<x509.AuthorityKeyIdentifierExtension>;
  /** leaves minted since start (for metrics/tests) */
  minted = 0;

  constructor(private readonly ca: CaMaterial, options: LeafMinterOptions = {}) {
    this.cache = new LRUCache({ max: options.maxHosts ?? 1000 });
  }

  /** A TLS context presenting a leaf for `host` (DNS name or IP literal), minted on first use. */
  async secureContextFor(host: string): Promise<tls.SecureContext> {
    const name = normaliseHost(host);
    if (!isCertifiableName(name)) throw new MintError(`cannot issue a certificate for ${JSON.stringify(host)}`);
    const cached = this.cache.get(name);
    if (cached) {
      const m = await cached;
      if (m.notAfter - Date.now() > LEAF_RENEW_MS) return m.context;
      if (this.cache.get(name) === cached) this.cache.delete(name);
      return this.secureContextFor(name);
    }
    const p = this.mint(name);
    this.cache.set(name, p);
    // A failed mint is not cached: the next handshake tries again.
    p.catch(() => { if (this.cache.get(name) === p) this.cache.delete(name); });
    return (await p).context;
  }

  private async mint(name: string): Promise<Minted> {
    const { keys, keyPem } = await this.getLeafKeys();
    const now = Date.now();
    const notBefore = new Date(now - LEAF_BACKDATE_MS);
    let notAfter = new Date(now + LEAF_VALIDITY_MS);
    if (notAfter > this.ca.cert.notAfter) notAfter = this.ca.cert.notAfter;
    const ip = isIP(name) !== 0;
    // CN is limited to 64 characters (RFC 5280 ub-common-name); the SAN carries the real name.
    const cn = name.length <= 64 ? name : name.slice(0, 64);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [cn] }, { O: ['larder'] }],
      issuer: this.ca.cert.subjectName,
      notBefore,
      notAfter,
      publicKey: keys.publicKey as unknown as CryptoKey,
      signingKey: this.ca.signingKey as unknown as CryptoKey,
      signingAlgorithm: this.ca.signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        // RFC 5280 §4.2.1.6: the name the client checks (RFC 9110 §4.3.4 / RFC 6125)
        new x509.SubjectAlternativeNameExtension([{ type: ip ? 'ip' : 'dns', value: name }]),
        await this.getAuthorityKeyId(),
      ],
    });
    const context = tls.createSecureContext({ key: keyPem, cert: cert.toString('pem') });
    this.minted++;
    return { context, notAfter: notAfter.getTime() };
  }

  private getLeafKeys(): Promise<{ keys: webcrypto.CryptoKeyPair; keyPem: string }> {
    this.leafKeys ??= (async () => {
      const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
      const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
      return { keys, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
    })();
    return this.leafKeys;
  }

  private getAuthorityKeyId(): Promise<x509.AuthorityKeyIdentifierExtension> {
    this.authorityKeyId ??= (async () => {
      const ski = this.ca.cert.getExtension(x509.SubjectKeyIdentifierExtension);
      if (ski) return new x509.AuthorityKeyIdentifierExtension(ski.keyId);
      return x509.AuthorityKeyIdentifierExtension.create(this.ca.cert.publicKey);
    })();
    return this.authorityKeyId;
  }
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, no leading zero octet (RFC 5280 §4.1.2.2)
  return Buffer.from(bytes).toString('hex');
}
