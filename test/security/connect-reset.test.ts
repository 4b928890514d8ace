/**
 * A client that resets its connection while a CONNECT is being refused (403, 407, 429) or while its
 * credentials are being checked must not crash the proxy: every socket larder is handed has an 'error'
 * listener from that moment on. The proxy runs as the real CLI in a child process, so a crash shows as
 * the child exiting.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import bcrypt from 'bcryptjs';
import { startCli } from './cli-process.js';
import { exchange } from './support.js';
import { basic, tempDir } from '../helpers/htpasswd-fixtures.js';

const cleanup: (() => void)[] = [];
after(() => { for (const f of cleanup.reverse()) f(); });

/**
 * Send `request` and reset the connection (RST, SO_LINGER 0): at once, while the proxy is still deciding,
 * or as soon as its answer arrives, while the proxy still holds the socket open to let the answer drain.
 */
function sendAndReset(port: number, request: string, when: 'at-once' | 'after-answer', localAddress?: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    if (when === 'after-answer') s.once('data', () => s.resetAndDestroy());
    s.once('connect', () => s.write(request, () => { if (when === 'at-once') s.resetAndDestroy(); }));
  });
}

async function resetMany(port: number, request: string, localAddress?: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await sendAndReset(port, request, 'at-once', localAddress);
    await sendAndReset(port, request, 'after-answer', localAddress);
  }
}

async function startWithAuth(extra: string[]): Promise<{ port: number; exited: () => number | null | undefined }> {
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  // cost 10: the check takes tens of ms, so the reset arrives while the password is being verified
  const file = dir.write('htpasswd', `alice:${bcrypt.hashSync('right', 10)}\n`);
  const { child, port } = await startCli(['--auth-file', file, ...extra]);
  let code: number | null | undefined;
  child.once('exit', (c) => { code = c; });
  cleanup.push(() => child.kill('SIGKILL'));
  return { port, exited: () => code };
}

const CONNECT = (auth?: string) => `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`;

test('a client resetting during a refused CONNECT (407 missing, 407 wrong password, 429, 403) does not crash the proxy', async () => {
  const { port, exited } = await startWithAuth([]);
  await resetMany(port, CONNECT()); // 407, no credentials
  for (let i = 0; i < 12; i++) await sendAndReset(port, CONNECT(basic('alice', `wrong-${i}`)), i % 2 ? 'at-once' : 'after-answer', '127.0.0.3'); // 407 while hashing
  await resetMany(port, CONNECT(basic('alice', 'wrong-again')), '127.0.0.3'); // 429 past the failure limit
  const r = await exchange(port, CONNECT(), 3000);
  assert.equal(exited(), undefined, 'the proxy process exited');
  assert.equal(r.status, 407, `proxy no longer serves: ${JSON.stringify(r.text.slice(0, 120))}`);
});

test('a client resetting while refused by the client rule (403) does not crash the proxy', async () => {
  const { child, port } = await startCli(['--allow', '10.0.0.0/8']);
  let code: number | null | undefined;
  child.once('exit', (c) => { code = c; });
  cleanup.push(() => child.kill('SIGKILL'));
  await resetMany(port, CONNECT());
  const r = await exchange(port, CONNECT(), 3000);
  assert.equal(code, undefined, 'the proxy process exited');
  assert.equal(r.status, 403, `proxy no longer serves: ${JSON.stringify(r.text.slice(0, 120))}`);
});
