/**
 * Certificates for TLS tests, generated at test time (no private key is ever committed):
 * a test CA, origin certificates signed by it (good, expired, not yet valid, wrong name) and self-signed ones.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIG = { name: 'ECDSA', hash: 'SHA-256' };
const DAY = 86_400_000;

export interface TestCa {
  certPem: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface TestCert {
  certPem: string;
  keyPem: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(Buffer.from(der), 'PRIVATE KEY');
}

export async function makeTestCa(name = 'larder test CA'): Promise<TestCa> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys,
    signingAlgorithm: SIG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { certPem: cert.toString('pem'), cert, keys };
}

export interface IssueOptions {
  /** DNS names and IP literals in the SAN (default localhost, 127.0.0.1, ::1) */
  names?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

function sanExtension(names: string[]): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: /^[\d.]+$|:/.test(n) ? 'ip' as const : 'dns' as const, value: n })));
}

/** An origin certificate signed by `ca`. */
export async function issueCert(ca: TestCa, opts: IssueOptions = {}): Promise<TestCert> {
  const names = opts.names ?? ['localhost', '127.0.0.1', '::1'];
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${names[0]}`,
    issuer: ca.cert.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 7 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: SIG,
    extensions: [new x509.BasicConstraintsExtension(false), sanExtension(names), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** A self-signed origin certificate (no CA). */
export async function selfSignedCert(names: string[] = ['localhost', '127.0.0.1']): Promise<TestCert> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${names[0]}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 7 * DAY),
    keys,
    signingAlgorithm: SIG,
    extensions: [sanExtension(names)],
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix = 'larder-tls-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Write a PEM into `dir` and return its path. */
export function writePem(dir: string, name: string, pem: string): string {
  const p = join(dir, name);
  writeFileSync(p, pem);
  return p;
}

export interface TestOrigin {
  server: https.Server;
  port: number;
  close: () => Promise<void>;
}

/** An HTTPS origin on 127.0.0.1 (IPv4 only) with the given certificate. */
export async function startHttpsOrigin(cert: TestCert, handler: http.RequestListener): Promise<TestOrigin> {
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
