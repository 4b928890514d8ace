import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { Agent, ProxyAgent, fetch, request } from 'undici';
import { makeConfig } from '../../src/config/load.js';
import type { AccessRecord } from '../../src/log/record.js';
import { handleConnect } from '../../src/proxy/tunnel.js';
import { loadOrCreateCa, type CaMaterial } from '../../src/tls/ca.js';
import { Interceptor, interceptTargetOf } from '../../src/tls/intercept.js';
import { firstMatchingPattern, parseHostPatterns } from '../../src/net/host-pattern.js';
import { LeafMinter } from '../../src/tls/mint.js';
import { issueCert, makeTestCa, startHttpsOrigin, tempDir, writePem, type TestOrigin } from '../helpers/tls-fixtures.js';

const matchHostPattern = (host: string, pattern: string): boolean => firstMatchingPattern(parseHostPatterns([pattern]), host) !== undefined;

test('host patterns: exact, *.domain (subdomains), .domain (domain and subdomains)', () => {
  assert.equal(matchHostPattern('example.com', 'example.com'), true);
  assert.equal(matchHostPattern('EXAMPLE.com.', 'example.COM'), true);
  assert.equal(matchHostPattern('www.example.com', 'example.com'), false);
  assert.equal(matchHostPattern('www.example.com', '*.example.com'), true);
  assert.equal(matchHostPattern('a.b.example.com', '*.example.com'), true);
  assert.equal(matchHostPattern('example.com', '*.example.com'), false);
  assert.equal(matchHostPattern('badexample.com', '*.example.com'), false);
  assert.equal(matchHostPattern('example.com', '.example.com'), true);
  assert.equal(matchHostPattern('x.example.com', '.example.com'), true);
  assert.equal(matchHostPattern('badexample.com', '.example.com'), false);
  assert.equal(matchHostPattern('anything', '*'), true);

  const server = http.createServer();
  const minter = {} as LeafMinter;
  const all = new Interceptor({ minter, hosts: [], skip: ['*.bank.test'], server });
  assert.equal(all.shouldIntercept('registry.npmjs.org'), true);
  assert.equal(all.shouldIntercept('www.bank.test'), false);
  const some = new Interceptor({ minter, hosts: ['.npmjs.org', 'deb.debian.org'], skip: ['secure.npmjs.org'], server });
  assert.equal(some.shouldIntercept('registry.npmjs.org'), true);
  assert.equal(some.shouldIntercept('npmjs.org'), true);
  assert.equal(some.shouldIntercept('secure.npmjs.org'), false);
  assert.equal(some.shouldIntercept('deb.debian.org'), true);
  assert.equal(some.shouldIntercept('example.com'), false);
});

interface Setup {
  ca: CaMaterial;
  caFile: string;
  originCaFile: string;
  origin: TestOrigin;
  proxyPort: number;
  interceptor: Interceptor;
  /** absolute URLs the proxy's request handler saw on decrypted sockets */
  seen: string[];
  /** CONNECT requests received */
  connects: () => number;
  records: AccessRecord[];
  tunnels: number[];
  close: () => Promise<void>;
}

/**
 * An intercepting proxy: CONNECTs to `localhost` are intercepted, to 127.0.0.1 tunnelled blindly (skip).
 * Its request handler forwards decrypted requests to the origin with undici, trusting the test CA.
 */
async function setup(): Promise<Setup> {
  const tmp = tempDir();
  const originCa = await makeTestCa('origin CA');
  const originCaFile = writePem(tmp.dir, 'origin-ca.pem', originCa.certPem);
  const origin = await startHttpsOrigin(await issueCert(originCa), (req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(`origin says hi to ${req.url}`);
  });
  const ca = await loadOrCreateCa(`${tmp.dir}/ca`);
  const upstream = new Agent({ connect: { ca: originCa.certPem } });
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const t = interceptTargetOf(req.socket);
    if (!t) { res.statusCode = 400; res.end('not intercepted'); return; }
    const url = `https://${t.host}:${t.port}${req.url}`;
    seen.push(url);
    request(url, { dispatcher: upstream }).then(async (up) => {
      res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type']), 'x-intercepted': '1' });
      res.end(Buffer.from(await up.body.arrayBuffer()));
    }, () => { res.statusCode = 502; res.end(); });
  });
  const interceptor = new Interceptor({ minter: new LeafMinter(ca), hosts: [], skip: ['127.0.0.1'], server, handshakeTimeout: 2_000 });
  const config = makeConfig({ connectPorts: ['*'] });
  let connects = 0;
  const records: AccessRecord[] = [];
  const tunnels: number[] = [];
  const deps = { config, interceptor, onRecord: (r: AccessRecord) => records.push(r), onTunnel: (d: number) => tunnels.push(d) };
  server.on('connect', (req, sock, head) => { connects++; handleConnect(req, sock, head, deps); });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    ca,
    caFile: ca.certPath,
    originCaFile,
    origin,
    proxyPort: (server.address() as AddressInfo).port,
    interceptor,
    seen,
    connects: () => connects,
    records,
    tunnels,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await upstream.close();
      await origin.close();
      tmp.cleanup();
    },
  };
}

function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', ...args], (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('curl trusting larder\'s CA gets the origin\'s body through an intercepting proxy', async () => {
  const s = await setup();
  try {
    const base = `https://localhost:${s.origin.port}`;
    const r = await curl(['-i', '-x', `http://127.0.0.1:${s.proxyPort}`, '--cacert', s.caFile, `${base}/a/b?c=1`, `${base}/second`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /x-intercepted: 1/i);
    assert.match(r.stdout, /origin says hi to \/a\/b\?c=1HTTP\/1\.1 200/);
    assert.match(r.stdout, /origin says hi to \/second$/);
    assert.deepEqual(s.seen, [`${base}/a/b?c=1`, `${base}/second`]);
    assert.equal(s.connects(), 1, 'the second request reused the intercepted keep-alive connection');
    const deadline = Date.now() + 3_000;
    while (s.records.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    assert.equal(s.records.length, 1, 'the CONNECT is recorded once the client closes');
    assert.equal(s.records[0]!.status, 200);
    assert.equal(s.records[0]!.url, `localhost:${s.origin.port}`);
    assert.deepEqual(s.tunnels, [1, -1]);
  } finally {
    await s.close();
  }
});

test('undici ProxyAgent with requestTls.ca gets the origin\'s body, twice', async () => {
  const s = await setup();
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${s.proxyPort}`, requestTls: { ca: s.ca.certPem } });
  try {
    for (const path of ['/one', '/two']) {
      const res = await fetch(`https://localhost:${s.origin.port}${path}`, { dispatcher: agent });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-intercepted'), '1');
      assert.equal(await res.text(), `origin says hi to ${path}`);
    }
    assert.equal(s.seen.length, 2);
  } finally {
    await agent.close();
    await s.close();
  }
});

test('skip patterns are tunnelled blindly: the client sees the origin\'s own certificate', async () => {
  const s = await setup();
  try {
    const ok = await curl(['-x', `http://127.0.0.1:${s.proxyPort}`, '--cacert', s.originCaFile, `https://127.0.0.1:${s.origin.port}/blind`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'origin says hi to /blind');
    const withLarderCa = await curl(['-x', `http://127.0.0.1:${s.proxyPort}`, '--cacert', s.caFile, `https://127.0.0.1:${s.origin.port}/blind`]);
    assert.equal(withLarderCa.code, 60, 'origin certificate is not issued by larder');
    assert.deepEqual(s.seen, []);
  } finally {
    await s.close();
  }
});

test('a client that does not trust the CA fails its handshake; the proxy carries on', async () => {
  const s = await setup();
  try {
    const bad = await curl(['-x', `http://127.0.0.1:${s.proxyPort}`, '--cacert', s.originCaFile, `https://localhost:${s.origin.port}/`]);
    assert.equal(bad.code, 60, bad.stderr);
    // A client that sends garbage instead of a ClientHello.
    const raw = net.connect(s.proxyPort, '127.0.0.1');
    raw.on('error', () => undefined);
    raw.write(`CONNECT localhost:${s.origin.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await new Promise((r) => raw.once('data', r));
    raw.write('GET / HTTP/1.1\r\n\r\n');
    await new Promise((r) => raw.once('close', r));
    const deadline = Date.now() + 3_000;
    while (s.interceptor.handshakeFailures < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.interceptor.handshakeFailures, 2);
    assert.deepEqual(s.seen, []);

    const good = await curl(['-x', `http://127.0.0.1:${s.proxyPort}`, '--cacert', s.caFile, `https://localhost:${s.origin.port}/after`]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout, 'origin says hi to /after');
  } finally {
    await s.close();
  }
});

test('the minted leaf names the SNI host and chains to larder\'s CA; ALPN is http/1.1', async () => {
  const s = await setup();
  try {
    const raw = net.connect(s.proxyPort, '127.0.0.1');
    raw.write(`CONNECT localhost:${s.origin.port} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const head = await new Promise<string>((r) => raw.once('data', (d: Buffer) => r(String(d))));
    assert.match(head, /^HTTP\/1\.1 200 /);
    const secure = tls.connect({ socket: raw, servername: 'localhost', ca: s.ca.certPem, ALPNProtocols: ['h2', 'http/1.1'] });
    await new Promise<void>((resolve, reject) => { secure.once('secureConnect', resolve); secure.once('error', reject); });
    assert.equal(secure.authorized, true);
    assert.equal(secure.alpnProtocol, 'http/1.1');
    assert.equal(secure.getPeerCertificate().subjectaltname, 'DNS:localhost');
    secure.destroy();
  } finally {
    await s.close();
  }
});
