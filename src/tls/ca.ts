/**
 * The interception CA: created on first use (ECDSA P-256, 10 years), loaded afterwards.
 *
 * Files in `dir`: ca.pem (0644, the certificate users trust) and ca-key.pem (0600, PKCS#8 key); the
 * directory is created 0700. Several workers may start at once, so creation takes a lock file and the
 * losers wait for the winner's files instead of writing a second, different CA.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomSerial } from './serial.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';
const LOCK_FILE = 'ca.lock';
const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;
const CA_VALIDITY_YEARS = 10;

export type CaErrorCode = 'LARDER_ERR_CA_READ' | 'LARDER_ERR_CA_INVALID' | 'LARDER_ERR_CA_WRITE';

/** A CA file problem; `message` names the file and what is wrong, `code` is stable for matching. */
export class CaError extends Error {
  constructor(readonly code: CaErrorCode, message: string) {
    super(message);
    this.name = 'CaError';
  }
}

export interface CaMaterial {
  certPath: string;
  keyPath: string;
  /** the CA certificate, PEM (what users install as trusted) */
  certPem: string;
  /** parsed certificate (subject is the issuer name of every leaf) */
  cert: x509.X509Certificate;
  /** private key as a WebCrypto key, for signing leaves */
  signingKey: webcrypto.CryptoKey;
  /** signature algorithm matching the key, for X509CertificateGenerator */
  signingAlgorithm: Algorithm | EcdsaParams;
  /** true when this call created the CA */
  created: boolean;
}

/** Load the CA in `dir`, creating it (and the directory) when absent. */
export async function loadOrCreateCa(dir: string): Promise<CaMaterial> {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  if (await exists(certPath)) return loadCa(dir);
  await mkdirPrivate(dir);
  const lockPath = join(dir, LOCK_FILE);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const lock = await tryLock(lockPath);
    if (lock) {
      try {
        if (await exists(certPath)) return await loadCa(dir);
        return await createCa(certPath, keyPath);
      } finally {
        await rm(lockPath, { force: true });
      }
    }
    // Another process is creating it: wait for its files.
    if (await exists(certPath)) return loadCa(dir);
    if (Date.now() > deadline) {
      throw new CaError('LARDER_ERR_CA_WRITE', `CA directory ${dir}: lock file ${LOCK_FILE} is held by another process; remove it if no larder is starting`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Load an existing CA (certificate + matching private key). */
export async function loadCa(dir: string): Promise<CaMaterial> {
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  const certPem = await readText(certPath);
  const keyPem = await readText(keyPath);
  let nodeCert: NodeX509;
  try {
    nodeCert = new NodeX509(certPem);
  } catch {
    throw new CaError('LARDER_ERR_CA_INVALID', `${certPath}: not a PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new CaError('LARDER_ERR_CA_INVALID', `${keyPath}: not a PEM private key (PKCS#8, unencrypted)`);
  }
  const certSpki = nodeCert.publicKey.export({ type: 'spki', format: 'der' });
  const keySpki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!certSpki.equals(keySpki)) {
    throw new CaError('LARDER_ERR_CA_INVALID', `${keyPath} does not belong to the certificate in ${certPath}`);
  }
  if (!nodeCert.ca) {
    throw new CaError('LARDER_ERR_CA_INVALID', `${certPath}: certificate is not a CA (basicConstraints CA:true missing)`);
  }
  const { signingKey, signingAlgorithm } = await toWebCryptoKey(key, keyPath);
  return { certPath, keyPath, certPem, cert: new x509.X509Certificate(certPem), signingKey, signingAlgorithm, created: false };
}

async function createCa(certPath: string, keyPath: string): Promise<CaMaterial> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const notBefore = new Date(now - 60 * 60 * 1000);
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`larder proxy CA (${hostname()})`] }, { O: ['larder'] }],
    notBefore,
    notAfter,
    keys: keys as unknown as CryptoKeyPair,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const certPem = cert.toString('pem') + '\n';
  // Key first (0600), certificate last: ca.pem existing means the pair is complete.
  await writeAtomic(keyPath, keyPem, 0o600);
  await writeAtomic(certPath, certPem, 0o644);
  return { certPath, keyPath, certPem, cert, signingKey: keys.privateKey, signingAlgorithm, created: true };
}

/** Import a Node private key as a WebCrypto signing key (EC P-256/P-384 or RSA, so users may bring their own CA). */
async function toWebCryptoKey(key: KeyObject, keyPath: string): Promise<{ signingKey: webcrypto.CryptoKey; signingAlgorithm: Algorithm | EcdsaParams }> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  const type = key.asymmetricKeyType;
  try {
    if (type === 'ec') {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined;
      if (namedCurve) {
        const hash = namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384';
        const signingKey = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
        return { signingKey, signingAlgorithm: { name: 'ECDSA', hash } as EcdsaParams };
      }
    } else if (type === 'rsa') {
      const signingKey = await webcrypto.subtle.importKey('pkcs8', der, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
      return { signingKey, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } };
    }
  } catch (err) {
    throw new CaError('LARDER_ERR_CA_INVALID', `${keyPath}: key cannot be used for signing (${(err as Error).message})`);
  }
  throw new CaError('LARDER_ERR_CA_INVALID', `${keyPath}: unsupported key type (use ECDSA P-256/P-384 or RSA)`);
}


async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CaError('LARDER_ERR_CA_READ', `cannot read ${path} (${code})`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CaError('LARDER_ERR_CA_READ', `cannot access ${path} (${(err as NodeJS.ErrnoException).code})`);
  }
}

async function mkdirPrivate(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CaError('LARDER_ERR_CA_WRITE', `cannot create CA directory ${dir} (${(err as NodeJS.ErrnoException).code})`);
  }
}

async function tryLock(lockPath: string): Promise<boolean> {
  try {
    const fh = await open(lockPath, 'wx', 0o600);
    await fh.writeFile(String(process.pid));
    await fh.close();
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new CaError('LARDER_ERR_CA_WRITE', `cannot create ${lockPath} (${code})`);
    // A lock left behind by a crashed process is removed after a while.
    try {
      const s = await stat(lockPath);
      if (Date.now() - s.mtimeMs > LOCK_STALE_MS) await rm(lockPath, { force: true });
    } catch { /* gone meanwhile */ }
    return false;
  }
}

async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await rm(tmp, { force: true });
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await chmod(tmp, mode); // the umask must not widen or narrow what users rely on
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new CaError('LARDER_ERR_CA_WRITE', `cannot write ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}
