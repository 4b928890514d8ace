/**
 * Differential fuzz of the fast path's request parser against llhttp (node:http's parser): every request
 * head the fast parser accepts, node:http accepts too, with the same method, target, Host and the same
 * end of the head; and none the fast parser accepts carries a field that needs the slow path. Inputs are
 * valid heads mutated with the bytes that matter to framing (CR, LF, NUL, SP, HT, ':', controls, obs-text).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { parseFastRequest } from '../../src/server/fast-request.js';

const limits = { maxHeaderSize: 65536, maxHeaders: 100, maxUrlLength: 16384 };

interface Parsed { method: string; url: string; host: string | undefined; error?: string }

/** What node:http made of `head` followed by a marker request; undefined when it refused the head. */
async function llhttp(port: number, head: string, seen: Parsed[]): Promise<Parsed | undefined> {
  seen.length = 0;
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  let text = '';
  s.setEncoding('latin1');
  s.on('data', (d: string) => { text += d; });
  s.on('error', () => {});
  // a marker request behind it shows where node:http thought the first head ended
  s.write(Buffer.from(`${head}GET /marker HTTP/1.1\r\nHost: m\r\n\r\n`, 'latin1'));
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline && !s.destroyed && seen.length < 2 && !/^HTTP\/1\.1 [45]/.test(text)) await new Promise((r) => setTimeout(r, 2));
  s.destroy();
  if (seen.length < 2 || seen[1]!.url !== '/marker') return undefined;
  return seen[0];
}

test('every request head the fast parser accepts is parsed the same way by node:http', async () => {
  const seen: Parsed[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, host: req.headers.host });
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  try {
    const base = fc.constantFrom(
      'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET /x?y=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n',
      'HEAD /obj/1k HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n',
      'GET http://a.example/p HTTP/1.1\r\nHost: a.example\r\nReferer: http://r/\r\n\r\n',
      'GET /a HTTP/1.1\r\nHost: a\r\nX-Long: ' + 'v'.repeat(200) + '\r\n\r\n',
    );
    const tricky = fc.constantFrom('\r', '\n', '\r\n', '\0', ' ', '\t', ':', '\x01', '\x0b', '\x7f', '\x80', '\xff', 'Host: b\r\n', 'Content-Length: 1\r\n', 'Transfer-Encoding: chunked\r\n', '/', '?', '#', '%', '"', 'H', '1');
    const mutation = fc.tuple(fc.nat(), fc.constantFrom('insert', 'replace', 'delete'), tricky);
    const input = fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([b, ms]) => {
      let s = b;
      for (const [at, kind, ch] of ms) {
        const i = at % (s.length + 1);
        if (kind === 'insert') s = s.slice(0, i) + ch + s.slice(i);
        else if (kind === 'replace') s = s.slice(0, i) + ch + s.slice(i + 1);
        else s = s.slice(0, i) + s.slice(i + 1);
      }
      return s;
    });
    let accepted = 0;
    await fc.assert(fc.asyncProperty(input, async (head) => {
      const fast = parseFastRequest(head, 0, limits);
      if (fast === undefined || fast.end !== head.length) return; // refused (or not the whole input): node:http judges
      accepted++;
      const parsed = await llhttp(port, head, seen);
      assert.ok(parsed, `node:http refused a head the fast parser accepted: ${JSON.stringify(head)}`);
      assert.equal(parsed.method, fast.method, JSON.stringify(head));
      assert.equal(parsed.url, fast.target, JSON.stringify(head));
      assert.equal(parsed.host, fast.host, JSON.stringify(head));
    }), { numRuns: 1500 });
    assert.ok(accepted > 50, `only ${accepted} mutated heads were accepted: the fuzz did not exercise the parser`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
