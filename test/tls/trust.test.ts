import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { Agent, fetch, request } from 'undici';
import { TrustError, describeTlsError, upstreamCaList } from '../../src/tls/trust.js';
import { issueCert, makeTestCa, selfSignedCert, startHttpsOrigin, tempDir, writePem, type TestCert } from '../helpers/tls-fixtures.js';

const DAY = 86_400_000;

test('upstreamCaList: the bundled roots plus every certificate of the extra file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    assert.deepEqual(upstreamCaList(), [...tls.rootCertificates]);
    const a = await makeTestCa('A');
    const b = await makeTestCa('B');
    const file = writePem(dir, 'extra.pem', `# comment\n${a.certPem}\n${b.certPem}\n`);
    const list = upstreamCaList(file);
    assert.equal(list.length, tls.rootCertificates.length + 2);
    assert.equal(list.at(-2)!.trim(), a.certPem.trim());
    assert.equal(list.at(-1)!.trim(), b.certPem.trim());

    assert.throws(() => upstreamCaList(`${dir}/missing.pem`), (e: unknown) => e instanceof TrustError && e.message.includes('missing.pem') && e.message.includes('ENOENT'));
    const empty = writePem(dir, 'empty.pem', 'nothing here');
    assert.throws(() => upstreamCaList(empty), (e: unknown) => e instanceof TrustError && e.message.includes('empty.pem'));
    const broken = writePem(dir, 'broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.throws(() => upstreamCaList(broken), (e: unknown) => e instanceof TrustError && /broken\.pem: certificate #1/.test(e.message));
  } finally {
    cleanup();
  }
});

/** Fetch https://<name>:port/ from an origin presenting `cert`, trusting the roots + `caFile`; return the thrown error. */
async function failureOf(cert: TestCert, caFile: string, name = 'localhost'): Promise<unknown> {
  const origin = await startHttpsOrigin(cert, (_req, res) => res.end('ok'));
  const agent = new Agent({ connect: { ca: upstreamCaList(caFile) } });
  try {
    await request(`https://${name}:${origin.port}/`, { dispatcher: agent }).then((r) => r.body.dump());
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await agent.close();
    await origin.close();
  }
}

test('describeTlsError names what is wrong with the origin certificate', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const ca = await makeTestCa();
    const caFile = writePem(dir, 'ca.pem', ca.certPem);

    assert.equal(await failureOf(await issueCert(ca), caFile), undefined, 'a good certificate passes');

    const selfSigned = await failureOf(await selfSignedCert(['localhost']), caFile);
    assert.equal(describeTlsError(selfSigned), 'origin certificate is self-signed and not trusted');

    const expired = await failureOf(await issueCert(ca, { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) }), caFile);
    assert.equal(describeTlsError(expired), 'origin certificate has expired');

    const future = await failureOf(await issueCert(ca, { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 10 * DAY) }), caFile);
    assert.equal(describeTlsError(future), 'origin certificate is not yet valid');

    const wrongName = await failureOf(await issueCert(ca, { names: ['other.example'] }), caFile);
    assert.equal(describeTlsError(wrongName), 'origin certificate does not match host localhost');

    const otherCa = await makeTestCa('untrusted');
    const untrusted = await failureOf(await issueCert(otherCa), caFile);
    assert.match(describeTlsError(untrusted) ?? '', /issuer is (unknown|not trusted)/);
  } finally {
    cleanup();
  }
});

test('describeTlsError looks through undici fetch wrapping and ignores non-TLS errors', async () => {
  const { cleanup } = tempDir();
  const cert = await selfSignedCert(['localhost']);
  const origin = await startHttpsOrigin(cert, (_req, res) => res.end('ok'));
  const agent = new Agent({ connect: { ca: upstreamCaList() } });
  try {
    const err = await fetch(`https://localhost:${origin.port}/`, { dispatcher: agent }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof TypeError, 'fetch wraps the cause');
    assert.equal(describeTlsError(err), 'origin certificate is self-signed and not trusted');

    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.equal(describeTlsError(refused), undefined);
    assert.equal(describeTlsError(new TypeError('fetch failed', { cause: refused })), undefined);
    assert.equal(describeTlsError('string'), undefined);
    assert.equal(describeTlsError(null), undefined);
    assert.equal(describeTlsError({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'origin did not answer with TLS (plain HTTP on a TLS port?)');
  } finally {
    await agent.close();
    await origin.close();
    cleanup();
  }
});
