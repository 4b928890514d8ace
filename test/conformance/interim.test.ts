/**
 * Interim (1xx) responses, RFC 9110 §15.2, through a real larder in forward and reverse mode, on the memory
 * and on the default LMDB disk store:
 * - a 1xx is never stored and its header fields never become part of the final response, served or stored
 *   (§15.2: "A 1xx response is terminated by the end of the header section"; RFC 9111 §3: only final
 *   responses are stored);
 * - a client that sends `Expect: 100-continue` (§10.1.1) gets `100 Continue` and then the final response, and
 *   the origin gets the body (larder does not pass Expect on: it is hop-by-hop in effect, §10.1.1 lets an
 *   intermediary answer it itself);
 * - 103 Early Hints (and 102) from the origin are relayed before the final response (src/proxy/interim.ts);
 * - todo: a `100` from the origin that was not asked for: undici 7 (node_modules/undici/lib/dispatcher/
 *   client-h1.js onHeadersComplete) destroys the connection on it ("bad response"), so larder answers 502.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';

interface Origin { port: number; url: string; requests: string[]; close(): Promise<void> }

/** A raw origin: every request gets `interim` (1xx heads, verbatim) and then a cacheable 200 "ok". */
async function startInterimOrigin(interim: (path: string) => string): Promise<Origin> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (c) => {
      buf += c.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end);
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        requests.push(`${head}\r\n\r\n${body}`);
        const path = head.split(' ')[1] ?? '/';
        s.write(`${interim(path)}HTTP/1.1 200 OK\r\nCache-Control: max-age=3600\r\nContent-Type: text/plain\r\nContent-Length: ${2 + body.length}\r\n\r\nok${body}`);
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

/** Send raw request bytes; `onInterim` sees the bytes so far (to send a body after 100 Continue). */
function exchange(port: number, head: string, onData?: (all: string, s: net.Socket) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let all = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`no complete response: ${JSON.stringify(all)}`)); }, 5000);
    s.on('data', (c) => { all += c.toString('latin1'); onData?.(all, s); });
    s.on('close', () => { clearTimeout(t); resolve(all); });
    s.on('error', () => undefined);
    s.write(head);
  });
}

const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\nX-Interim: hint\r\n\r\n';
let origin: Origin;
const larders: { store: string; mode: 'forward' | 'reverse'; larder: TestLarder }[] = [];

before(async () => {
  origin = await startInterimOrigin((path) => (path.includes('/plain') ? '' : path.includes('/processing') ? 'HTTP/1.1 102 Processing\r\nX-Interim: processing\r\n\r\n' + EARLY_HINTS : EARLY_HINTS));
  for (const disk of [false, true]) {
    for (const mode of ['forward', 'reverse'] as const) {
      const larder = await startTestLarder({ disk, allowLocalhostDestinations: true, ...(mode === 'reverse' ? { upstream: origin.url } : {}) });
      larders.push({ store: disk ? 'disk' : 'memory', mode, larder });
    }
  }
});
after(async () => {
  for (const l of larders) await l.larder.stop();
  await origin.close();
});

function requestLine(mode: 'forward' | 'reverse', method: string, path: string): string {
  return mode === 'forward' ? `${method} ${origin.url}${path} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\n` : `${method} ${path} HTTP/1.1\r\nHost: site.test\r\n`;
}

const port = (l: TestLarder) => Number(new URL(l.url).port);
/** The final response's head (after any 1xx). */
const finalHead = (raw: string) => raw.slice(raw.lastIndexOf('HTTP/1.1 '), raw.indexOf('\r\n\r\n', raw.lastIndexOf('HTTP/1.1 ')));

for (const store of ['memory', 'disk']) {
  for (const mode of ['forward', 'reverse'] as const) {
    const get = () => larders.find((l) => l.store === store && l.mode === mode)!.larder;

    test(`1xx header fields do not leak into the final response nor into the stored one (${mode}, ${store} store)`, async () => {
      for (const kind of ['hints', 'processing']) {
        const path = `/interim/${store}/${mode}/${kind}`;
        const before = origin.requests.length;
        const first = await exchange(port(get()), `${requestLine(mode, 'GET', path)}Connection: close\r\n\r\n`);
        const hit = await exchange(port(get()), `${requestLine(mode, 'GET', path)}Connection: close\r\n\r\n`);
        assert.equal(origin.requests.length - before, 1, 'the second request is a hit');
        for (const [name, raw] of [['miss', first], ['hit', hit]] as const) {
          const head = finalHead(raw);
          assert.match(head, /^HTTP\/1\.1 200 /, name);
          assert.doesNotMatch(head, /\r\nlink:/i, `${name}: ${head}`);
          assert.doesNotMatch(head, /\r\nx-interim:/i, `${name}: ${head}`);
          assert.ok(raw.endsWith('\r\n\r\nok'), name);
        }
        assert.match(finalHead(hit), /cache-status: [^\r]*; hit/i);
      }
    });

    test(`Expect: 100-continue gets 100 Continue, then the final response; the origin gets the body, not Expect (${mode}, ${store} store)`, async () => {
      const path = `/plain/continue/${store}/${mode}`;
      const before = origin.requests.length;
      let sent = false;
      const raw = await exchange(port(get()), `${requestLine(mode, 'POST', path)}Expect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n`, (all, s) => {
        // RFC 9110 §10.1.1: the client waits for 100 Continue before it sends the content
        if (!sent && /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(all)) { sent = true; s.write('hello'); }
      });
      assert.ok(sent, `no 100 Continue first: ${JSON.stringify(raw.slice(0, 80))}`);
      assert.match(finalHead(raw), /^HTTP\/1\.1 200 /);
      assert.ok(raw.endsWith('okhello'), raw);
      assert.equal(origin.requests.length - before, 1);
      const seen = origin.requests.at(-1)!;
      assert.doesNotMatch(seen, /\r\nexpect:/i);
      assert.ok(seen.endsWith('\r\n\r\nhello'));
    });

    test(`103 Early Hints from the origin are relayed before the final response (${mode}, ${store} store)`, async () => {
      const raw = await exchange(port(get()), `${requestLine(mode, 'GET', `/interim/relay/${store}/${mode}`)}Connection: close\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 103 Early Hints\r\n[^]*link: <\/style\.css>; rel=preload/i);
    });
  }
}

test('an unsolicited 100 Continue from the origin is skipped and the final response relayed (RFC 9110 §15.2: a client MUST parse 1xx)', { todo: 'undici 7 client-h1.js onHeadersComplete destroys the socket on statusCode === 100 ("bad response"): larder answers 502' }, async () => {
  const o = await startInterimOrigin(() => 'HTTP/1.1 100 Continue\r\n\r\n');
  try {
    const l = larders.find((x) => x.mode === 'forward')!.larder;
    const raw = await exchange(port(l), `GET ${o.url}/unsolicited HTTP/1.1\r\nHost: 127.0.0.1:${o.port}\r\nConnection: close\r\n\r\n`);
    assert.match(finalHead(raw), /^HTTP\/1\.1 200 /);
  } finally {
    await o.close();
  }
});
