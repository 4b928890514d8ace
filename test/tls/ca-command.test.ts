import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCaCommand } from '../../src/cli/ca-command.js';
import { makeConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/tls-fixtures.js';

function capture(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (d: Buffer) => chunks.push(d));
  return { out, text: () => Buffer.concat(chunks).toString() };
}

test('larder ca creates the CA, prints its path, the PEM and how to trust it; the second run prints the same CA', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const config = makeConfig({ caDir: join(dir, 'ca dir') });
    const first = capture();
    assert.equal(await runCaCommand(config, first.out), 0);
    const text = first.text();
    const certPath = join(dir, 'ca dir', 'ca.pem');
    assert.ok(text.includes(certPath));
    assert.match(text, /created now/);
    const pem = readFileSync(certPath, 'utf8');
    assert.ok(text.includes(pem.trim()), 'prints the PEM');
    assert.ok(new X509Certificate(pem).ca);
    assert.match(text, /--cacert/);
    assert.match(text, /NODE_EXTRA_CA_CERTS=/);
    assert.match(text, /\/usr\/local\/share\/ca-certificates\/larder\.crt && sudo update-ca-certificates/);
    assert.match(text, /certutil -d sql:\$HOME\/\.pki\/nssdb -A -t C,, -n larder -i '/);

    const second = capture();
    assert.equal(await runCaCommand(config, second.out), 0);
    assert.doesNotMatch(second.text(), /created now/);
    assert.ok(second.text().includes(pem.trim()));
  } finally {
    cleanup();
  }
});

test('larder ca reports a broken CA with its code and exit status 1', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    writeFileSync(join(dir, 'ca-key.pem'), 'not a key');
    const c = capture();
    assert.equal(await runCaCommand(makeConfig({ caDir: dir }), c.out), 1);
    assert.match(c.text(), /^larder ca: .*ca\.pem: not a PEM certificate \[LARDER_ERR_CA_INVALID\]\n$/);
  } finally {
    cleanup();
  }
});
