import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import net, { type AddressInfo } from 'node:net';
import { loadOrCreateCa, type CaMaterial } from '../../src/tls/ca.js';
import { LeafMinter, MintError } from '../../src/tls/mint.js';
import { tempDir } from '../helpers/tls-fixtures.js';

/** TLS server on 127.0.0.1 presenting the minter's leaf per SNI; the client verifies against the CA only. */
async function handshake(minter: LeafMinter, ca: CaMaterial, servername: string | undefined, connectHost: string): Promise<{ authorized: boolean; error?: Error; peer?: X509Certificate }> {
  const defaultCtx = await minter.secureContextFor(connectHost);
  const server = net.createServer((raw) => {
    const s = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: defaultCtx,
      SNICallback: (name, cb) => { minter.secureContextFor(name).then((c) => cb(null, c), cb); },
    });
    s.on('error', () => s.destroy());
    s.once('secure', () => s.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    return await new Promise((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, servername, checkServerIdentity: (host, cert) => tls.checkServerIdentity(servername ?? connectHost, cert) });
      sock.once('secureConnect', () => {
        const peer = new X509Certificate(sock.getPeerCertificate().raw);
        resolve({ authorized: sock.authorized, peer });
        sock.destroy();
      });
      sock.once('error', (error) => resolve({ authorized: false, error }));
    });
  } finally {
    server.close();
  }
}

test('a minted leaf verifies against the CA for the SNI name (DNS and IP SAN)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const ca = await loadOrCreateCa(dir);
    const minter = new LeafMinter(ca);
    const r = await handshake(minter, ca, 'www.example.test', 'www.example.test');
    assert.equal(r.error, undefined);
    assert.equal(r.authorized, true);
    assert.equal(r.peer!.subjectAltName, 'DNS:www.example.test');
    assert.ok(r.peer!.checkIssued(new X509Certificate(ca.certPem)));
    assert.ok(Date.parse(r.peer!.validFrom) < Date.now() - 30 * 60_000, 'notBefore backdated');
    assert.ok(Date.parse(r.peer!.validTo) < Date.now() + 366 * 86_400_000, 'at most a year');
    assert.equal(r.peer!.ca, false);

    // A different SNI name gets its own leaf; checked with the real hostname verification.
    const other = await handshake(minter, ca, 'api.other.test', 'www.example.test');
    assert.equal(other.authorized, true);
    assert.equal(other.peer!.subjectAltName, 'DNS:api.other.test');

    // IP literal: no SNI is sent, the leaf carries an IP SAN.
    const ip = await handshake(minter, ca, undefined, '127.0.0.1');
    assert.equal(ip.error, undefined);
    assert.equal(ip.authorized, true);
    assert.equal(ip.peer!.subjectAltName, 'IP Address:127.0.0.1');
  } finally {
    cleanup();
  }
});

test('a leaf for one name does not verify for another', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const ca = await loadOrCreateCa(dir);
    const minter = new LeafMinter(ca);
    const ctx = await minter.secureContextFor('a.example.test');
    const server = net.createServer((raw) => {
      const s = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const err = await new Promise<Error | undefined>((resolve) => {
      const s = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, servername: 'b.example.test' });
      s.once('secureConnect', () => { s.destroy(); resolve(undefined); });
      s.once('error', resolve);
    });
    server.close();
    assert.equal((err as NodeJS.ErrnoException | undefined)?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  } finally {
    cleanup();
  }
});

test('caches per host, shares concurrent mints, bounds the cache, rejects garbage names', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const ca = await loadOrCreateCa(dir);
    const minter = new LeafMinter(ca, { maxHosts: 2 });
    const [a, b] = await Promise.all([minter.secureContextFor('x.test'), minter.secureContextFor('X.TEST.')]);
    assert.equal(a, b);
    assert.equal(minter.minted, 1);
    assert.equal(await minter.secureContextFor('x.test'), a);
    await minter.secureContextFor('y.test');
    await minter.secureContextFor('z.test'); // evicts x.test
    assert.equal(minter.minted, 3);
    assert.notEqual(await minter.secureContextFor('x.test'), a);
    assert.equal(minter.minted, 4);
    await assert.rejects(minter.secureContextFor('bad name\r\n'), MintError);
    await assert.rejects(minter.secureContextFor(''), MintError);
    // one trailing dot is the root label; two leave an empty label, which is no certifiable name
    // (the shared normalizeHost drops every trailing dot, so the minter checks this itself)
    await assert.rejects(minter.secureContextFor('x.test..'), MintError);
    await assert.rejects(minter.secureContextFor('a..test'), MintError);
  } finally {
    cleanup();
  }
});
