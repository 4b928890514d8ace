import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ConfigError } from '../../src/errors.js';
import { hashProblem, hashScrypt, loadHtpasswd, parseHtpasswd, shaCrypt, shaCryptAsync, verifyPassword } from '../../src/server/htpasswd.js';
import { SHA_CRYPT_VECTORS, bcryptHash, tempDir } from '../helpers/htpasswd-fixtures.js';

test('SHA-crypt matches the specification vectors (sync and async)', async () => {
  for (const v of SHA_CRYPT_VECTORS) {
    assert.equal(shaCrypt(v.password, v.setting), v.hash, v.setting);
    assert.equal(await shaCryptAsync(v.password, v.setting), v.hash, v.setting);
    assert.equal(await verifyPassword(v.hash, v.password), true, v.hash);
    assert.equal(await verifyPassword(v.hash, `${v.password}x`), false, v.hash);
  }
});

test('SHA-crypt agrees with openssl passwd -5 / -6 (multi-byte password, odd lengths)', async (t) => {
  let haveOpenssl = true;
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); } catch { haveOpenssl = false; }
  if (!haveOpenssl) return t.skip('openssl not installed');
  const cases = [['5', 'abc', 'x'], ['6', 'pässwörd ✓ with spaces', 'Zs0/.9aB'], ['5', 'p'.repeat(70), 'sixteencharsalt!']];
  for (const [id, pw, salt] of cases) {
    const expected = execFileSync('openssl', ['passwd', `-${id}`, '-salt', salt!, '-stdin'], { input: pw! }).toString().trim();
    assert.equal(shaCrypt(pw!, `$${id}$${salt}`), expected);
    assert.equal(await verifyPassword(expected, pw!), true);
  }
});

test('SHA-crypt of the empty password (vector from libxcrypt crypt(3))', () => {
  assert.equal(shaCrypt('', '$6$emptypw'), '$6$emptypw$TWmzQ8/uLn1BFSZ5Lkfum8lAba5vixF9Nl3Aiof.Praatq9nh0kkPuTdoVrIL6du0L6LAoadbPq.q.D7keveg/');
});

test('bcrypt $2a$/$2b$/$2y$ verify, wrong password does not', async () => {
  const h = bcryptHash('s3cret');
  for (const prefix of ['$2a$', '$2b$', '$2y$']) {
    const variant = prefix + h.slice(4);
    assert.equal(hashProblem(variant), undefined);
    assert.equal(await verifyPassword(variant, 's3cret'), true, prefix);
    assert.equal(await verifyPassword(variant, 's3creT'), false, prefix);
  }
});

test('scrypt: hashScrypt round trip, documented format, wrong password fails', async () => {
  const h = await hashScrypt('hunter2', { N: 1024, r: 8, p: 1 });
  assert.match(h, /^\$scrypt\$N=1024,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.equal(await verifyPassword(h, 'hunter2'), true);
  assert.equal(await verifyPassword(h, 'hunter3'), false);
  const def = await hashScrypt('x');
  assert.match(def, /^\$scrypt\$N=16384,r=8,p=1\$/);
  assert.equal(await verifyPassword(def, 'x'), true);
  // parameters that would let a hash file stall the process are refused
  assert.notEqual(hashProblem('$scrypt$N=4194304,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), undefined);
  assert.notEqual(hashProblem('$scrypt$N=1000,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), undefined);
});

test('weak and plain-text hashes are refused with file and line', () => {
  const weak = [
    'plaintext',
    'abJnggxhB/yWI', // crypt(3) DES
    '$apr1$salt$A8fG7mIJbGk9t6N2VbMI31', // MD5 apr1
    '$1$saltsalt$2vnaRpHa6Jxjz5n83ok8Z0', // MD5-crypt
    '{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', // SHA-1
  ];
  for (const hash of weak) {
    assert.throws(
      () => parseHtpasswd(`# users\nok:${bcryptHash('a')}\nbob:${hash}\n`, '/etc/larder/htpasswd'),
      (err: unknown) => err instanceof ConfigError && /\/etc\/larder\/htpasswd:3/.test(err.message) && /use bcrypt: htpasswd -B/.test(err.message) && /bob/.test(err.message),
      hash,
    );
  }
  assert.throws(() => parseHtpasswd('x:$y$j9T$abc$def\n', 'f'), /f:1: .*unsupported hash scheme \$y\$/);
});

test('loadHtpasswd reads users, skips comments and blank lines, CRLF tolerated', () => {
  const dir = tempDir();
  try {
    const b = bcryptHash('pw');
    const path = dir.write('htpasswd', `# comment\r\n\r\nalice:${b}\r\nbob:${SHA_CRYPT_VECTORS[0]!.hash}\n`);
    const users = loadHtpasswd(path);
    assert.deepEqual([...users.keys()], ['alice', 'bob']);
    assert.equal(users.get('alice'), b);
    assert.throws(() => loadHtpasswd(`${dir.dir}/missing`), (e: unknown) => e instanceof ConfigError && /missing: cannot read \(ENOENT\)/.test(e.message));
    const dup = dir.write('dup', `a:${b}\na:${b}\n`);
    assert.throws(() => loadHtpasswd(dup), /dup:2: user "a" appears twice/);
    const noColon = dir.write('nocolon', 'just-a-name\n');
    assert.throws(() => loadHtpasswd(noColon), /nocolon:1: expected "user:hash"/);
  } finally {
    dir.remove();
  }
});

test('malformed strong-looking hashes never verify', async () => {
  assert.equal(await verifyPassword('$2b$04$short', 'x'), false);
  assert.equal(await verifyPassword('$6$salt$tooshort', 'x'), false);
  assert.equal(await verifyPassword('plaintext', 'plaintext'), false);
  assert.equal(await verifyPassword('', ''), false);
});
