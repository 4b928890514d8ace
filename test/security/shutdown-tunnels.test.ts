/**
 * SIGTERM with a blind CONNECT tunnel open: CONNECT sockets are not in node:http's connection list, so
 * the shutdown must cut them itself; `shutdown-timeout` bounds the whole shutdown, tunnels included.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startCli } from './cli-process.js';

const cleanup: (() => void)[] = [];
after(() => { for (const f of cleanup.reverse()) f(); });

test('SIGTERM with an open blind tunnel exits within shutdown-timeout (and the tunnel is cut)', async () => {
  // a loopback TCP echo server, the tunnel's far end
  const echo = net.createServer((s) => { s.on('error', () => s.destroy()); s.pipe(s); });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  cleanup.push(() => echo.close());
  const echoPort = (echo.address() as net.AddressInfo).port;

  const { child, port } = await startCli(['--connect-ports', String(echoPort), '--shutdown-timeout', '1s']);
  cleanup.push(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));

  const client = net.connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  let received = '';
  client.on('data', (d: Buffer) => { received += d.toString('latin1'); });
  const clientClosed = new Promise<void>((r) => client.once('close', () => r()));
  client.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
  await dataUntil(client, () => received.includes('\r\n\r\n'));
  assert.match(received, /^HTTP\/1\.1 200 /);
  client.write('ping');
  await dataUntil(client, () => received.endsWith('ping'));

  const started = Date.now();
  child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000))]);
  const ms = Date.now() - started;
  assert.notEqual(code, 'hung', 'the proxy was still running 8 s after SIGTERM with a tunnel open');
  assert.equal(code, 0);
  assert.ok(ms < 1000 + 1500, `shutdown took ${ms} ms with shutdown-timeout 1 s`);
  await clientClosed; // the tunnel was cut, not left dangling
});

/** Resolves at the first 'data' event after which `cond` holds. */
function dataUntil(socket: net.Socket, cond: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => { if (cond()) { socket.off('data', check); resolve(); } };
    socket.on('data', check);
    socket.once('close', () => reject(new Error('closed before the expected bytes arrived')));
  });
}
