/**
 * Upstream TLS trust: which CAs the upstream client accepts, and human sentences for TLS failures.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

export class TrustError extends Error {
  readonly code = 'LARDER_ERR_UPSTREAM_CA';
  constructor(message: string) {
    super(message);
    this.name = 'TrustError';
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Node's bundled roots plus every certificate in `extraCaFile` (PEM, several allowed), for `connect: { ca }`. */
export function upstreamCaList(extraCaFile?: string): string[] {
  const roots = [...tls.rootCertificates];
  if (extraCaFile === undefined || extraCaFile === '') return roots;
  let text: string;
  try {
    text = readFileSync(extraCaFile, 'utf8');
  } catch (err) {
    throw new TrustError(`upstream CA file ${extraCaFile}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const pems = text.match(PEM_CERT) ?? [];
  if (pems.length === 0) throw new TrustError(`upstream CA file ${extraCaFile}: no PEM certificate (-----BEGIN CERTIFICATE-----) found`);
  pems.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw new TrustError(`upstream CA file ${extraCaFile}: certificate #${i + 1} is not valid PEM`);
    }
  });
  return [...roots, ...pems];
}

/** Node/OpenSSL verification codes → what went wrong, as a sentence for an error page or log. */
const VERIFY_MESSAGES: Record<string, string> = {
  CERT_HAS_EXPIRED: 'origin certificate has expired',
  CERT_NOT_YET_VALID: 'origin certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'origin certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'origin certificate chain ends in an untrusted self-signed root',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'origin certificate issuer is unknown (incomplete chain or untrusted CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'origin certificate issuer is not trusted (add it with --upstream-ca)',
  UNABLE_TO_GET_ISSUER_CERT: 'origin certificate issuer is not trusted (add it with --upstream-ca)',
  CERT_UNTRUSTED: 'origin certificate is not trusted',
  CERT_REJECTED: 'origin certificate was rejected',
  CERT_REVOKED: 'origin certificate has been revoked',
  CERT_SIGNATURE_FAILURE: 'origin certificate signature is invalid',
  CERT_CHAIN_TOO_LONG: 'origin certificate chain is too long',
  INVALID_CA: 'origin certificate chain contains an invalid CA certificate',
  INVALID_PURPOSE: 'origin certificate is not valid for a TLS server',
  PATH_LENGTH_EXCEEDED: 'origin certificate chain exceeds a CA path length limit',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'origin certificate has an invalid validity period',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'origin certificate has an invalid validity period',
  HOSTNAME_MISMATCH: 'origin certificate does not match the host name',
  ERR_TLS_HANDSHAKE_TIMEOUT: 'TLS handshake with origin timed out',
  ERR_SSL_WRONG_VERSION_NUMBER: 'origin did not answer with TLS (plain HTTP on a TLS port?)',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'origin did not answer with TLS (plain HTTP on a TLS port?)',
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'origin only offers an unsupported TLS version',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'origin rejected the TLS version offered',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'TLS handshake with origin failed (no common cipher or protocol)',
  ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR: 'origin reported an internal TLS error',
  ERR_SSL_TLSV1_UNRECOGNIZED_NAME: 'origin does not serve the requested host name (SNI)',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'origin requires a client certificate',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'origin rejected the TLS handshake (bad certificate)',
};

/**
 * A short sentence for a TLS failure talking to the origin, or undefined when `err` is not a TLS error.
 * undici wraps errors (`fetch failed` with `cause`), so the cause chain is searched too.
 */
export function describeTlsError(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const text = describeOne(e as { code?: unknown; host?: unknown; message?: unknown });
    if (text !== undefined) return text;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeOne(e: { code?: unknown; host?: unknown; message?: unknown }): string | undefined {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === undefined) return undefined;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return typeof e.host === 'string' && e.host !== '' ? `origin certificate does not match host ${e.host}` : 'origin certificate does not match the host name';
  }
  const known = VERIFY_MESSAGES[code];
  if (known !== undefined) return known;
  if (code.startsWith('ERR_SSL_')) {
    const detail = code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ');
    return `TLS handshake with origin failed (${detail})`;
  }
  if (code === 'EPROTO' && typeof e.message === 'string' && /SSL|TLS/i.test(e.message)) return 'TLS handshake with origin failed';
  return undefined;
}
