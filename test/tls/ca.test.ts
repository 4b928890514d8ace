import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CaError, loadCa, loadOrCreateCa } from '../../src/tls/ca.js';
import { tempDir } from '../helpers/tls-fixtures.js';

test('creates an ECDSA P-256 CA with private files, then loads the same one', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const caDir = join(dir, 'nested', 'larder');
    const first = await loadOrCreateCa(caDir);
    assert.equal(first.created, true);
    assert.equal(statSync(caDir).mode & 0o777, 0o700);
    assert.equal(statSync(first.keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(first.certPath).mode & 0o777, 0o644);

    const cert = new X509Certificate(readFileSync(first.certPath));
    assert.equal(cert.ca, true);
    assert.match(cert.subject, /CN=larder proxy CA \(/);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
    assert.ok(years > 9.9 && years < 10.1, `validity ${years} years`);
    // basicConstraints critical CA:TRUE and keyUsage keyCertSign + cRLSign (critical)
    const bc = first.cert.getExtension(x509.BasicConstraintsExtension);
    assert.ok(bc?.ca && bc.critical, 'basicConstraints CA:TRUE, critical');
    const ku = first.cert.getExtension(x509.KeyUsagesExtension);
    assert.ok(ku?.critical, 'keyUsage critical');
    assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);

    const second = await loadOrCreateCa(caDir);
    assert.equal(second.created, false);
    assert.equal(second.certPem, first.certPem);
  } finally {
    cleanup();
  }
});

test('concurrent first use creates exactly one CA', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const all = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateCa(dir)));
    assert.equal(all.filter((c) => c.created).length, 1);
    assert.equal(new Set(all.map((c) => c.certPem)).size, 1);
  } finally {
    cleanup();
  }
});

test('unreadable or mismatched files give a CaError with a code naming the file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await assert.rejects(loadCa(dir), (err: unknown) => err instanceof CaError && err.code === 'LARDER_ERR_CA_READ' && err.message.includes('ca.pem'));
    await loadOrCreateCa(dir);
    writeFileSync(join(dir, 'ca-key.pem'), 'garbage');
    await assert.rejects(loadOrCreateCa(dir), (err: unknown) => err instanceof CaError && err.code === 'LARDER_ERR_CA_INVALID' && err.message.includes('ca-key.pem'));

    const { dir: other, cleanup: cleanOther } = tempDir();
    try {
      await loadOrCreateCa(other);
      writeFileSync(join(dir, 'ca-key.pem'), readFileSync(join(other, 'ca-key.pem')));
      await assert.rejects(loadCa(dir), (err: unknown) => err instanceof CaError && /does not belong/.test(err.message));
    } finally {
      cleanOther();
    }
    if (process.getuid?.() !== 0) {
      chmodSync(join(dir, 'ca.pem'), 0);
      await assert.rejects(loadCa(dir), (err: unknown) => err instanceof CaError && err.code === 'LARDER_ERR_CA_READ');
    }
  } finally {
    cleanup();
  }
});
