/**
 * Who may use the proxy and where it may go: no open relay by accident (non-loopback listen without
 * rules refuses to start), client allow-lists (403), destination rules against the cloud metadata
 * address in every spelling (403, for GET and CONNECT), and proxy authentication with a bcrypt htpasswd
 * (407 + Proxy-Authenticate, credentials accepted and never forwarded, failed attempts limited: 429).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startRawOrigin, faults, headerNames, type RawOrigin } from '../helpers/raw-origin.js';
import { bcryptHash, basic, tempDir } from '../helpers/htpasswd-fixtures.js';
import { exchange, assertStillServes, wellFormed, targetFor, type Mode } from './support.js';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

async function setup(overrides: Parameters<typeof startTestLarder>[0], mode: Mode = 'forward'): Promise<{ larder: TestLarder; origin: RawOrigin }> {
  const origin = await startRawOrigin(faults.ok());
  const larder = await startTestLarder({ ...overrides, ...(mode === 'reverse' ? { upstream: origin.url } : {}) });
  cleanup.push(() => origin.close(), () => larder.stop());
  return { larder, origin };
}

test('listening beyond loopback without allow/auth/allowAll refuses to start (exit 2, names the flags)', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--host', '0.0.0.0', '--port', '0', '--no-disk', '--admin-port', '0', '--access-log', 'off'],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: new URL('../..', import.meta.url).pathname });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill(), 15_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  assert.equal(code, 2, `exit ${code}: ${stderr}`);
  assert.match(stderr, /open proxy/);
  assert.match(stderr, /--allow/);
  assert.match(stderr, /--auth-file/);
});

for (const mode of ['forward', 'reverse'] as Mode[]) {
  test(`[${mode}] a client outside allow gets 403 and the origin sees nothing`, async () => {
    const { larder, origin } = await setup({ allow: ['10.0.0.0/8'] }, mode);
    const r = await exchange(larder.port, wellFormed(mode, origin, '/denied'), 2000);
    assert.equal(r.status, 403);
    assert.equal(origin.requests.length, 0);
    // the same proxy with loopback allowed serves
    const ok = await setup({ allow: ['10.0.0.0/8', '127.0.0.0/8'] }, mode);
    await assertStillServes(ok.larder.port, mode, ok.origin, 'allow');
  });
}

test('[forward] a client outside allow gets 403 for CONNECT too', async () => {
  const { larder } = await setup({ allow: ['10.0.0.0/8'] });
  const r = await exchange(larder.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 2000);
  assert.equal(r.status, 403);
});

const METADATA = ['169.254.169.254', '[::ffff:169.254.169.254]', '2852039166', '0xa9fea9fe', '0251.0376.0251.0376', '169.254.169.254.'];
test('[forward] the metadata address is refused (403) in every spelling, for GET and CONNECT', async () => {
  const { larder, origin } = await setup({});
  for (const h of METADATA) {
    const started = Date.now();
    const r = await exchange(larder.port, `GET http://${h}/latest/meta-data/ HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`, 3000);
    assert.equal(r.status, 403, `GET ${h}: ${JSON.stringify(r.text.slice(0, 120))}`);
    assert.ok(Date.now() - started < 1500, `GET ${h} took ${Date.now() - started} ms`);
    const c = await exchange(larder.port, `CONNECT ${h}:443 HTTP/1.1\r\nHost: ${h}:443\r\n\r\n`, 3000);
    assert.equal(c.status, 403, `CONNECT ${h}: ${JSON.stringify(c.text.slice(0, 120))}`);
  }
  await assertStillServes(larder.port, 'forward', origin, 'metadata');
});

test('[forward] proxy auth: 407 with Proxy-Authenticate, right credentials pass and are not forwarded, failures are limited (429)', async () => {
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  const file = dir.write('htpasswd', `alice:${bcryptHash('correct horse')}\n`);
  const { larder, origin } = await setup({ authFile: file, authRealm: 'larder-test' });
  const { target, host } = targetFor('forward', origin, '/auth');
  const req = (auth?: string) => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`;

  const none = await exchange(larder.port, req(), 2000);
  assert.equal(none.status, 407);
  assert.match(none.text, /\r\nproxy-authenticate: Basic realm="larder-test"/i);
  assert.equal(origin.requests.length, 0);

  const good = await exchange(larder.port, req(basic('alice', 'correct horse')), 3000);
  assert.equal(good.status, 200);
  assert.equal(origin.requests.length, 1);
  assert.ok(!headerNames(origin.requests[0]!).includes('proxy-authorization'), 'Proxy-Authorization reached the origin');

  // brute force from another address (127.0.0.2): 407 until the limit, then 429 without a password check
  const statuses: number[] = [];
  for (let i = 0; i < 15; i++) statuses.push((await exchange(larder.port, req(basic('alice', `guess-${i}`)), 2000, 0, '127.0.0.2')).status);
  assert.ok(statuses.slice(0, 5).every((s) => s === 407), statuses.join(','));
  assert.equal(statuses.at(-1), 429, statuses.join(','));
  // CONNECT without credentials: 407 too
  const c = await exchange(larder.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 2000);
  assert.equal(c.status, 407);
  // the honest client at 127.0.0.1 is still served
  const again = await exchange(larder.port, req(basic('alice', 'correct horse')), 3000);
  assert.equal(again.status, 200);
  assert.equal(origin.requests.length, 2);
});

test('[forward] proxy auth: a limited address gets 429 even for a password verified from elsewhere (no lockout oracle)', async () => {
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  const file = dir.write('htpasswd', `alice:${bcryptHash('correct horse')}\n`);
  const { larder, origin } = await setup({ authFile: file });
  const { target, host } = targetFor('forward', origin, '/auth');
  const req = (auth: string) => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nProxy-Authorization: ${auth}\r\n\r\n`;
  // alice uses the proxy from 127.0.0.1: her credentials are now in the verified cache
  assert.equal((await exchange(larder.port, req(basic('alice', 'correct horse')), 3000)).status, 200);
  // an attacker at 127.0.0.2 guesses until limited; guesses then cost no hashing, so the answer to the
  // right guess must not differ from the answer to a wrong one, or the lockout becomes a fast oracle
  for (let i = 0; i < 12; i++) await exchange(larder.port, req(basic('alice', `guess-${i}`)), 2000, 0, '127.0.0.2');
  assert.equal((await exchange(larder.port, req(basic('alice', 'wrong')), 2000, 0, '127.0.0.2')).status, 429);
  assert.equal((await exchange(larder.port, req(basic('alice', 'correct horse')), 2000, 0, '127.0.0.2')).status, 429,
    'the right password was accepted during the lockout: the verified-credentials cache answers before the limiter');
});
