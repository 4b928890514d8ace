/**
 * `--auth-file` without `--allow`: authentication is the access rule (Squid's `http_access allow
 * authenticated`), so clients on any address are served once they authenticate, instead of the default
 * loopback-only rule refusing every remote client.
 *
 * "Remote" on one machine: the proxy listens on one of this machine's non-loopback addresses and the
 * client connects to it from that address, so the proxy sees a non-loopback remoteAddress (any
 * 127.0.0.0/8 or ::1 source would count as loopback). The traffic never leaves the host. Skipped when
 * the machine has no non-loopback address.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { startTestLarder } from '../helpers/larder.js';
import { startRawOrigin, faults } from '../helpers/raw-origin.js';
import { basic, bcryptHash, tempDir } from '../helpers/htpasswd-fixtures.js';

const cleanup: (() => Promise<void> | void)[] = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

const hostAddress = Object.values(networkInterfaces()).flat()
  .find((i) => i !== undefined && !i.internal && i.family === 'IPv4')?.address;

/** One raw exchange with the proxy at address:port, from that same address. */
function ask(address: string, port: number, request: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: address, port, localAddress: address });
    let text = '';
    s.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    s.on('error', reject);
    s.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
    s.write(request);
    const t = setTimeout(() => s.destroy(), 5000);
    s.once('close', () => clearTimeout(t));
  });
}

test('auth file and no allow list: a remote client is served once it authenticates (407 without credentials), CONNECT included', { skip: hostAddress === undefined ? 'no non-loopback address on this machine' : false }, async () => {
  const address = hostAddress!;
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  const file = dir.write('htpasswd', `alice:${bcryptHash('correct horse')}\n`);
  const origin = await startRawOrigin(faults.ok());
  // the test origin is on loopback: a remote client may reach it only with allowLocalhostDestinations
  const larder = await startTestLarder({ host: address, authFile: file, connectPorts: [String(origin.port)], allowLocalhostDestinations: true });
  cleanup.push(() => origin.close(), () => larder.stop());
  const get = (auth?: string) => `GET http://${origin.host}/remote HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`;

  const none = await ask(address, larder.port, get());
  assert.equal(none.status, 407, `no credentials: ${JSON.stringify(none.text.slice(0, 160))}`);
  const good = await ask(address, larder.port, get(basic('alice', 'correct horse')));
  assert.equal(good.status, 200, `right credentials: ${JSON.stringify(good.text.slice(0, 160))}`);
  assert.equal(origin.count('/remote'), 1);
  const wrong = await ask(address, larder.port, get(basic('alice', 'nope')));
  assert.equal(wrong.status, 407);

  const connect = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ host: address, port: larder.port, localAddress: address });
    let text = '';
    s.on('error', reject);
    s.on('data', (d: Buffer) => { text += d.toString('latin1'); if (text.includes('\r\n\r\n')) { s.destroy(); resolve(text); } });
    s.write(`CONNECT ${origin.host} HTTP/1.1\r\nHost: ${origin.host}\r\nProxy-Authorization: ${basic('alice', 'correct horse')}\r\n\r\n`);
  });
  assert.match(connect, /^HTTP\/1\.1 200 /, 'an authenticated remote CONNECT is tunnelled');
  assert.equal(larder.records.find((r) => r.url === '/remote' || r.url.endsWith('/remote'))?.clientAddress, address, 'the proxy saw the non-loopback address');
});

test('auth file and no allow list: reverse-mode requests (no authentication applies) from a remote client stay refused', { skip: hostAddress === undefined ? 'no non-loopback address on this machine' : false }, async () => {
  const address = hostAddress!;
  const dir = tempDir();
  cleanup.push(() => dir.remove());
  const file = dir.write('htpasswd', `alice:${bcryptHash('correct horse')}\n`);
  const origin = await startRawOrigin(faults.ok());
  const larder = await startTestLarder({ host: address, authFile: file, upstream: origin.url });
  cleanup.push(() => origin.close(), () => larder.stop());
  const r = await ask(address, larder.port, 'GET /site HTTP/1.1\r\nHost: site.example\r\nConnection: close\r\n\r\n');
  assert.equal(r.status, 403);
  assert.equal(origin.count('/site'), 0);
});
