import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { ConfigError } from '../../src/errors.js';
import { ProxyAuth, parseBasic } from '../../src/server/auth.js';
import { RateLimiter } from '../../src/server/rate-limit.js';
import { hashScrypt } from '../../src/server/htpasswd.js';
import { SHA_CRYPT_VECTORS, basic, bcryptHash, tempDir } from '../helpers/htpasswd-fixtures.js';

async function setup(): Promise<{ file: string; done: () => void }> {
  const dir = tempDir();
  const scrypt = await hashScrypt('scrypt-pw', { N: 1024 });
  const file = dir.write('htpasswd', `# larder users\nalice:${bcryptHash('wonderland')}\nbob:${SHA_CRYPT_VECTORS[0]!.hash}\ncarol:${scrypt}\nzoë:${bcryptHash('pässwörd')}\n`);
  return { file, done: () => dir.remove() };
}

test('ok with the user name for bcrypt, SHA-crypt and scrypt users; UTF-8 credentials', async () => {
  const { file, done } = await setup();
  try {
    const auth = new ProxyAuth({ file, realm: 'larder' });
    assert.equal(auth.userCount, 4);
    assert.deepEqual(await auth.check(basic('alice', 'wonderland'), '127.0.0.1'), { result: 'ok', user: 'alice' });
    assert.deepEqual(await auth.check(basic('bob', 'Hello world!'), '127.0.0.1'), { result: 'ok', user: 'bob' });
    assert.deepEqual(await auth.check(basic('carol', 'scrypt-pw'), '127.0.0.1'), { result: 'ok', user: 'carol' });
    assert.deepEqual(await auth.check(basic('zoë', 'pässwörd'), '127.0.0.1'), { result: 'ok', user: 'zoë' });
    // scheme is case-insensitive (RFC 9110 §11.1)
    const lower = basic('alice', 'wonderland').replace('Basic', 'bAsIc');
    assert.deepEqual(await auth.check(lower, '127.0.0.1'), { result: 'ok', user: 'alice' });
  } finally {
    done();
  }
});

test('missing for no field, other schemes and undecodable values; invalid for wrong credentials', async () => {
  const { file, done } = await setup();
  try {
    const auth = new ProxyAuth({ file, realm: 'larder' });
    for (const v of [undefined, '', 'Bearer abc', 'Digest username="alice"', 'Basic', 'Basic !!!', 'Basic /w==']) {
      assert.deepEqual(await auth.check(v, '10.0.0.1'), { result: 'missing' }, String(v));
    }
    assert.deepEqual(await auth.check(basic('alice', 'wrong'), '10.0.0.1'), { result: 'invalid' });
    assert.deepEqual(await auth.check(basic('mallory', 'wonderland'), '10.0.0.1'), { result: 'invalid' });
    assert.deepEqual(await auth.check(`Basic ${Buffer.from('nocolon').toString('base64')}`, '10.0.0.1'), { result: 'invalid' });
    assert.deepEqual(await auth.check(basic('alice', 'wonderland '), '10.0.0.1'), { result: 'invalid' }, 'password compared exactly');
  } finally {
    done();
  }
});

test('limited after repeated failures from one client (mapped forms count as the same client); others unaffected', async () => {
  const { file, done } = await setup();
  try {
    const limiter = new RateLimiter({ max: 3, windowMs: 60_000 });
    const auth = new ProxyAuth({ file, realm: 'larder', limiter });
    assert.equal((await auth.check(basic('alice', 'x1'), '192.0.2.7')).result, 'invalid');
    assert.equal((await auth.check(basic('alice', 'x2'), '::ffff:192.0.2.7')).result, 'invalid');
    assert.equal((await auth.check(basic('alice', 'x3'), '192.0.2.7')).result, 'invalid');
    assert.equal((await auth.check(basic('alice', 'x4'), '192.0.2.7')).result, 'limited');
    assert.equal((await auth.check(basic('alice', 'wonderland'), '192.0.2.7')).result, 'limited', 'no password check while limited');
    assert.deepEqual(await auth.check(basic('alice', 'wonderland'), '192.0.2.8'), { result: 'ok', user: 'alice' });
    // a limited address is refused even with credentials verified elsewhere: otherwise a guess equal to a
    // recently used password would still answer 'ok' during the lockout (a brute-force oracle)
    assert.equal((await auth.check(basic('alice', 'wonderland'), '192.0.2.7')).result, 'limited');
  } finally {
    done();
  }
});

test('verified credentials are cached for the TTL, then verified again', async () => {
  const { file, done } = await setup();
  try {
    let t = 1_000_000;
    const auth = new ProxyAuth({ file, realm: 'larder', cacheTtlMs: 60_000, now: () => t });
    assert.equal((await auth.check(basic('alice', 'wonderland'), '127.0.0.1')).result, 'ok');
    // remove alice from the file without reload: the cached verification still answers within the TTL
    writeFileSync(file, `bob:${SHA_CRYPT_VECTORS[0]!.hash}\n`);
    assert.equal((await auth.check(basic('alice', 'wonderland'), '127.0.0.1')).result, 'ok');
    t += 61_000;
    // TTL over: verified against the users loaded (still the old map: file not reloaded)
    assert.equal((await auth.check(basic('alice', 'wonderland'), '127.0.0.1')).result, 'ok');
    // the file is read at start only: a new ProxyAuth (a restart) sees the change
    const restarted = new ProxyAuth({ file, realm: 'larder', cacheTtlMs: 60_000, now: () => t });
    assert.equal((await restarted.check(basic('alice', 'wonderland'), '127.0.0.1')).result, 'invalid', 'a restart drops the user');
    assert.equal((await restarted.check(basic('bob', 'Hello world!'), '127.0.0.1')).result, 'ok');
  } finally {
    done();
  }
});

test('a file changed under a running ProxyAuth does not change its users; the constructor refuses weak files', async () => {
  const { file, done } = await setup();
  try {
    const auth = new ProxyAuth({ file, realm: 'larder' });
    writeFileSync(file, 'alice:plaintext\n');
    assert.equal((await auth.check(basic('alice', 'wonderland'), '127.0.0.1')).result, 'ok');
    assert.throws(() => new ProxyAuth({ file, realm: 'larder' }), (e: unknown) => e instanceof ConfigError && e.message.includes(`${file}:1`));
    assert.throws(() => new ProxyAuth({ file, realm: 'larder' }), /weak or plain-text hash; use bcrypt: htpasswd -B/);
  } finally {
    done();
  }
});

test('concurrent checks of the same credentials all succeed (they share one verification)', async () => {
  const { file, done } = await setup();
  try {
    const auth = new ProxyAuth({ file, realm: 'larder' });
    const results = await Promise.all(Array.from({ length: 20 }, () => auth.check(basic('alice', 'wonderland'), '127.0.0.1')));
    assert.ok(results.every((r) => r.result === 'ok'));
  } finally {
    done();
  }
});

test('challenge names the realm, quoted, with charset UTF-8 (RFC 7617 §2.1)', async () => {
  const { file, done } = await setup();
  try {
    assert.equal(new ProxyAuth({ file, realm: 'larder' }).challenge(), 'Basic realm="larder", charset="UTF-8"');
    assert.equal(new ProxyAuth({ file, realm: 'my "lab"\\x' }).challenge(), 'Basic realm="my \\"lab\\"\\\\x", charset="UTF-8"');
  } finally {
    done();
  }
});

test('parseBasic decodes user:password and refuses bad base64 or UTF-8', () => {
  assert.equal(parseBasic(basic('a', 'b:c')), 'a:b:c');
  assert.equal(parseBasic('Basic  YTpi  '), 'a:b');
  assert.equal(parseBasic(`Basic ${Buffer.from([0x61, 0x3a, 0xff]).toString('base64')}`), undefined);
  assert.equal(parseBasic('Basic a'), undefined);
});
