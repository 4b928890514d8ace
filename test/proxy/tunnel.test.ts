import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { makeConfig, type Config } from '../../src/config/load.js';
import type { AccessRecord } from '../../src/log/record.js';
import { handleConnect, parseConnectTarget, type ConnectDeps } from '../../src/proxy/tunnel.js';
import { parsePortRanges, portInRanges } from '../../src/net/ports.js';

const isConnectPortAllowed = (port: number, allowed: string[]): boolean => portInRanges(port, parsePortRanges(allowed, 'connectPorts'));
import { issueCert, makeTestCa, startHttpsOrigin, tempDir, writePem } from '../helpers/tls-fixtures.js';

const run = promisify(execFile);

interface TestProxy {
  port: number;
  records: AccessRecord[];
  tunnels: number[];
  close: () => Promise<void>;
}

async function startProxy(overrides: Partial<Config> = {}, extra: Partial<ConnectDeps> = {}): Promise<TestProxy> {
  const records: AccessRecord[] = [];
  const tunnels: number[] = [];
  const deps: ConnectDeps = {
    config: makeConfig({ connectPorts: ['*'], ...overrides }),
    onRecord: (r) => records.push(r),
    onTunnel: (d) => tunnels.push(d),
    ...extra,
  };
  const server = http.createServer((_req, res) => { res.statusCode = 400; res.end(); });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  server.on('connect', (req, sock, head) => handleConnect(req, sock, head, deps));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    records,
    tunnels,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

interface ConnectReply {
  socket: net.Socket;
  status: number;
  headers: Map<string, string>;
  /** bytes after the response head */
  rest: Buffer;
}

/** Send CONNECT `target` to the proxy and read the response head. */
function connectVia(proxyPort: number, target: string): Promise<ConnectReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no CONNECT reply')); }, 5_000);
    socket.on('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
      }
      resolve({ socket, status: Number(lines[0]!.split(' ')[1]), headers, rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

/** Read the rest of the socket until the proxy ends it (FIN or close); then close our side too. */
function readAll(reply: ConnectReply): Promise<string> {
  return new Promise((resolve) => {
    const chunks = [reply.rest];
    const done = (): void => { reply.socket.destroy(); resolve(Buffer.concat(chunks).toString()); };
    reply.socket.on('data', (d: Buffer) => chunks.push(d));
    reply.socket.once('end', done);
    reply.socket.once('close', done);
    reply.socket.resume();
  });
}

async function tcpServer(onConn: (s: net.Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => { sockets.add(s); s.once('close', () => sockets.delete(s)); onConn(s); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

const until = async (cond: () => boolean, ms = 3_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

test('parseConnectTarget and isConnectPortAllowed', () => {
  assert.deepEqual(parseConnectTarget('example.com:443'), { host: 'example.com', port: 443 });
  assert.deepEqual(parseConnectTarget('[::1]:8443'), { host: '::1', port: 8443 });
  assert.deepEqual(parseConnectTarget('10.0.0.1:1'), { host: '10.0.0.1', port: 1 });
  for (const bad of [undefined, '', 'example.com', 'example.com:', ':443', 'example.com:0', 'example.com:65536', 'a b:443', '[zz]:443', 'http://x:443', 'x:443/', '..:443', 'user@x:443']) {
    assert.equal(parseConnectTarget(bad), undefined, String(bad));
  }
  assert.equal(isConnectPortAllowed(443, ['443']), true);
  assert.equal(isConnectPortAllowed(444, ['443']), false);
  assert.equal(isConnectPortAllowed(1500, ['443', '1000-2000']), true);
  assert.equal(isConnectPortAllowed(2001, ['443', '1000-2000']), false);
  assert.equal(isConnectPortAllowed(22, ['*']), true);
});

test('curl through the tunnel reaches the HTTPS origin; the CONNECT is recorded', async () => {
  const { dir, cleanup } = tempDir();
  const ca = await makeTestCa();
  const caFile = writePem(dir, 'testca.pem', ca.certPem);
  const origin = await startHttpsOrigin(await issueCert(ca), (_req, res) => res.end('hello through the tunnel'));
  const proxy = await startProxy();
  try {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-x', `http://127.0.0.1:${proxy.port}`, '--cacert', caFile, `https://localhost:${origin.port}/`]);
    assert.equal(stdout, 'hello through the tunnel');
    await until(() => proxy.records.length === 1);
    const r = proxy.records[0]!;
    assert.equal(r.method, 'CONNECT');
    assert.equal(r.url, `localhost:${origin.port}`);
    assert.equal(r.status, 200);
    assert.equal(r.cache, 'bypass');
    assert.equal(r.cacheStatus, 'larder; fwd=bypass; detail=connect');
    assert.ok(r.bytesSent > 24 && r.bytesReceived > 0);
    assert.deepEqual(proxy.tunnels, [1, -1]);
  } finally {
    await proxy.close();
    await origin.close();
    cleanup();
  }
});

test('200 carries Cache-Status; a port not allowed gets 403, a malformed target 400', async () => {
  const upstream = await tcpServer((s) => s.end());
  const proxy = await startProxy({ connectPorts: ['443', String(upstream.port)], via: 'edge' });
  try {
    const ok = await connectVia(proxy.port, `127.0.0.1:${upstream.port}`);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('cache-status'), 'edge; fwd=bypass; detail=connect');
    ok.socket.destroy();

    const denied = await connectVia(proxy.port, '127.0.0.1:25');
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('cache-status'), 'edge; fwd=bypass; detail=connect');
    assert.equal(denied.headers.get('connection'), 'close');
    assert.match(denied.headers.get('content-type')!, /^text\/plain/);
    assert.match(await readAll(denied), /port 25 is not allowed/);

    const bad = await connectVia(proxy.port, '127.0.0.1:99999');
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('connection'), 'close');
    await readAll(bad);
    await until(() => proxy.records.length === 3);
    assert.deepEqual(proxy.records.map((r) => r.status).sort(), [200, 400, 403]);
    assert.deepEqual(proxy.records.filter((r) => r.status !== 200).map((r) => r.cache), ['error', 'error']);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test('checkDestination can refuse with 403 and its reason', async () => {
  const proxy = await startProxy({}, { checkDestination: async (host) => (host === 'blocked.test' ? 'destination blocked.test is denied' : undefined) });
  try {
    const r = await connectVia(proxy.port, 'blocked.test:443');
    assert.equal(r.status, 403);
    assert.match(await readAll(r), /destination blocked\.test is denied/);
  } finally {
    await proxy.close();
  }
});

test('an unreachable target gives 502 naming the cause, before any tunnel opens', async () => {
  const closed = await tcpServer(() => undefined);
  const port = closed.port;
  await closed.close();
  const proxy = await startProxy();
  try {
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`);
    assert.equal(r.status, 502);
    assert.equal(r.headers.get('cache-status'), 'larder; fwd=bypass; detail=connect');
    assert.equal(r.headers.get('connection'), 'close');
    assert.match(await readAll(r), new RegExp(`connection refused by 127\\.0\\.0\\.1:${port}`));
    await until(() => proxy.records.length === 1);
    assert.equal(proxy.records[0]!.upstreamError, 'refused');
    assert.deepEqual(proxy.tunnels, []);
  } finally {
    await proxy.close();
  }
});

test('a connect that does not complete in connectTimeout gives 504', async (t) => {
  // A listener with backlog 0 that never accepts: once its queue holds one connection, SYNs are dropped.
  const py = spawn('python3', ['-c', 'import socket,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(20)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const port = await new Promise<number | undefined>((resolve) => {
    py.once('error', () => resolve(undefined));
    py.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
  });
  if (port === undefined) { t.skip('python3 not available for the non-accepting listener'); return; }
  const filler = net.connect(port, '127.0.0.1');
  filler.on('error', () => undefined);
  await new Promise((r) => filler.once('connect', r));
  const proxy = await startProxy({ connectTimeout: 300 });
  try {
    const started = Date.now();
    const r = await connectVia(proxy.port, `127.0.0.1:${port}`);
    assert.equal(r.status, 504);
    assert.ok(Date.now() - started >= 250, 'waited for the timeout');
    assert.match(await readAll(r), /timed out after 300 ms/);
    await until(() => proxy.records.length === 1);
    assert.equal(proxy.records[0]!.upstreamError, 'timeout');
  } finally {
    filler.destroy();
    py.kill();
    await proxy.close();
  }
});

test('50 MiB each way arrive byte-identical (backpressure, half-close at the end)', async () => {
  const SIZE = 50 * 1024 * 1024;
  const CHUNK = 1024 * 1024;
  const sentByOrigin = createHash('sha256');
  let receivedByOrigin: Promise<string> | undefined;

  const writeAll = async (sock: net.Socket, hash: ReturnType<typeof createHash>): Promise<void> => {
    for (let sent = 0; sent < SIZE; sent += CHUNK) {
      const chunk = randomBytes(CHUNK);
      hash.update(chunk);
      if (!sock.write(chunk)) await new Promise((r) => sock.once('drain', r));
    }
    sock.end();
  };
  const origin = await tcpServer((s) => {
    const h = createHash('sha256');
    let n = 0;
    receivedByOrigin = new Promise((resolve) => {
      s.on('data', (d: Buffer) => { h.update(d); n += d.length; });
      s.once('end', () => resolve(`${n}:${h.digest('hex')}`));
    });
    void writeAll(s, sentByOrigin);
  });
  const proxy = await startProxy();
  try {
    const r = await connectVia(proxy.port, `127.0.0.1:${origin.port}`);
    assert.equal(r.status, 200);
    const sentByClient = createHash('sha256');
    const got = createHash('sha256');
    let gotBytes = r.rest.length;
    got.update(r.rest);
    const receivedByClient = new Promise<string>((resolve) => {
      r.socket.on('data', (d: Buffer) => { got.update(d); gotBytes += d.length; });
      r.socket.once('end', () => resolve(`${gotBytes}:${got.digest('hex')}`));
    });
    r.socket.resume();
    await writeAll(r.socket, sentByClient);
    assert.equal(await receivedByClient, `${SIZE}:${sentByOrigin.digest('hex')}`);
    assert.equal(await receivedByOrigin, `${SIZE}:${sentByClient.digest('hex')}`);
    r.socket.destroy();
    await until(() => proxy.records.length === 1);
    assert.equal(proxy.records[0]!.bytesSent, SIZE);
    assert.equal(proxy.records[0]!.bytesReceived, SIZE);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

test('half-close: the client ends its side and still receives the reply', async () => {
  const origin = await tcpServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    // Answer only once the client has finished sending (like a request body terminated by FIN).
    s.once('end', () => setTimeout(() => s.end(`got ${Buffer.concat(chunks).toString()} after your FIN`), 50));
  });
  const proxy = await startProxy();
  try {
    const r = await connectVia(proxy.port, `127.0.0.1:${origin.port}`);
    assert.equal(r.status, 200);
    r.socket.end('ping');
    assert.equal(await readAll(r), 'got ping after your FIN');
  } finally {
    await proxy.close();
    await origin.close();
  }
});

test('an idle tunnel is closed after idleTimeout, both sides', async () => {
  let originClosed = false;
  const origin = await tcpServer((s) => { s.resume(); s.once('end', () => { originClosed = true; }); });
  const proxy = await startProxy({ idleTimeout: 200 });
  try {
    const r = await connectVia(proxy.port, `127.0.0.1:${origin.port}`);
    assert.equal(r.status, 200);
    const started = Date.now();
    await readAll(r);
    const took = Date.now() - started;
    assert.ok(took >= 150 && took < 2_000, `closed after ${took} ms`);
    await until(() => originClosed && proxy.records.length === 1);
    assert.equal(proxy.records[0]!.upstreamError, 'idle');
    assert.deepEqual(proxy.tunnels, [1, -1]);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

test('an upstream reset tears down the client side', async () => {
  const origin = await tcpServer((s) => { s.once('data', () => s.resetAndDestroy()); });
  const proxy = await startProxy();
  try {
    const r = await connectVia(proxy.port, `127.0.0.1:${origin.port}`);
    r.socket.on('error', () => undefined);
    r.socket.write('x');
    await readAll(r);
    assert.ok(r.socket.destroyed);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

test('bytes the client sent right behind the CONNECT head reach the origin', async () => {
  let received = '';
  const origin = await tcpServer((s) => {
    s.on('data', (d: Buffer) => {
      received += d.toString();
      if (received.includes('early bytes')) s.end('seen');
    });
  });
  const proxy = await startProxy();
  try {
    const sock = net.connect(proxy.port, '127.0.0.1');
    const target = `127.0.0.1:${origin.port}`;
    sock.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\nearly bytes`);
    const all = await new Promise<string>((resolve) => {
      let text = '';
      sock.on('data', (d: Buffer) => { text += d.toString(); });
      sock.once('end', () => { sock.destroy(); resolve(text); });
    });
    assert.match(all, /^HTTP\/1\.1 200 Connection established\r\n[\s\S]*\r\n\r\nseen$/);
    assert.equal(received, 'early bytes');
  } finally {
    await proxy.close();
    await origin.close();
  }
});
