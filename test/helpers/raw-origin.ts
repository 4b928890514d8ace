/**
 * A raw TCP origin for security tests: it parses every request it receives with its own strict
 * HTTP/1.1 parser (so a request hidden inside another one, or a second pipelined request, shows up as a
 * separate entry in `requests`), records what it parsed, and answers with a behaviour chosen per test:
 * a well-formed response, or one of the faults in `faults` (reset mid-body, short Content-Length,
 * garbage status line, unsolicited 101, ...). Listens on 127.0.0.1, ephemeral port.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  /** header fields in order, names as sent */
  headers: [string, string][];
  body: Buffer;
  /** index of the connection it arrived on (0-based) */
  connection: number;
}

/** What to do with a parsed request: write a response (or misbehave) on the socket. */
export type Behaviour = (socket: net.Socket, req: ParsedRequest) => void;

export interface RawOrigin {
  port: number;
  url: string;
  host: string;
  /** every request parsed, in arrival order */
  requests: ParsedRequest[];
  /** framing problems the origin's parser found (a smuggling attempt reaching the origin shows here) */
  parseErrors: string[];
  /** request heads whose body never completed before the connection closed (method and target) */
  incomplete: string[];
  connections: number;
  /** change the behaviour for the following requests */
  behave(b: Behaviour): void;
  /** requests whose target ends with `path` */
  count(path?: string): number;
  /** forget recorded requests and parse errors */
  reset(): void;
  close(): Promise<void>;
}

const MAX_BUFFER = 1 << 20;

/** The value of a header (last one wins), case-insensitive. */
export function headerOf(req: ParsedRequest, name: string): string | undefined {
  const n = name.toLowerCase();
  let v: string | undefined;
  for (const [k, val] of req.headers) if (k.toLowerCase() === n) v = val;
  return v;
}

/** All header names of a request, lower-cased. */
export function headerNames(req: ParsedRequest): string[] {
  return req.headers.map(([k]) => k.toLowerCase());
}

type ParseResult = { req: Omit<ParsedRequest, 'connection'>; used: number } | { need: true } | { error: string };

/** Parse one request at the start of buf (strict: CRLF only, one Content-Length, chunked final). */
export function parseRequest(buf: Buffer): ParseResult {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return buf.length > MAX_BUFFER ? { error: 'head too large' } : { need: true };
  const head = buf.subarray(0, end).toString('latin1');
  const lines = head.split('\r\n');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d\.\d)$/.exec(lines[0]!);
  if (!m) return { error: `bad request line ${JSON.stringify(lines[0])}` };
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (/[\r\n\0]/.test(line)) return { error: 'bare CR/LF/NUL in a header line' };
    const hm = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!hm) return { error: `bad header line ${JSON.stringify(line)}` };
    headers.push([hm[1]!, hm[2]!]);
  }
  const cls = headers.filter(([k]) => k.toLowerCase() === 'content-length').map(([, v]) => v);
  const tes = headers.filter(([k]) => k.toLowerCase() === 'transfer-encoding').map(([, v]) => v);
  if (cls.length > 0 && tes.length > 0) return { error: 'both Content-Length and Transfer-Encoding' };
  let pos = end + 4;
  let body = Buffer.alloc(0);
  if (tes.length > 0) {
    const codings = tes.join(',').split(',').map((s) => s.trim().toLowerCase());
    if (codings[codings.length - 1] !== 'chunked') return { error: `chunked not final: ${tes.join(',')}` };
    const parts: Buffer[] = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) return { need: true };
      const sizeLine = buf.subarray(pos, le).toString('latin1');
      const sm = /^([0-9a-fA-F]{1,8})(;[^\r\n]*)?$/.exec(sizeLine);
      if (!sm) return { error: `bad chunk size ${JSON.stringify(sizeLine)}` };
      const size = parseInt(sm[1]!, 16);
      pos = le + 2;
      if (size === 0) {
        // trailers until an empty line
        for (;;) {
          const te = buf.indexOf('\r\n', pos);
          if (te < 0) return { need: true };
          const empty = te === pos;
          pos = te + 2;
          if (empty) break;
        }
        break;
      }
      if (buf.length < pos + size + 2) return { need: true };
      parts.push(buf.subarray(pos, pos + size));
      if (buf[pos + size] !== 13 || buf[pos + size + 1] !== 10) return { error: 'chunk not followed by CRLF' };
      pos += size + 2;
    }
    body = Buffer.concat(parts);
  } else if (cls.length > 0) {
    if (new Set(cls).size !== 1 || !/^\d{1,15}$/.test(cls[0]!)) return { error: `bad Content-Length ${cls.join(',')}` };
    const n = Number(cls[0]);
    if (buf.length < pos + n) return { need: true };
    body = Buffer.from(buf.subarray(pos, pos + n));
    pos += n;
  }
  return { req: { method: m[1]!, target: m[2]!, version: m[3]!, headers, body }, used: pos };
}

/** A plain 200 response with a body and optional extra header lines. */
export function respond(socket: net.Socket, body = 'ok', extra: string[] = [], status = '200 OK'): void {
  socket.write(`HTTP/1.1 ${status}\r\n${extra.map((l) => `${l}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Faulty origin behaviours, each named after what it does. */
export const faults = {
  /** a well-formed 200 with the given body and header lines */
  ok: (body = 'ok', extra: string[] = []): Behaviour => (s) => respond(s, body, extra),
  resetMidBody: (): Behaviour => (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nCache-Control: max-age=600\r\n\r\n' + 'x'.repeat(300));
    setTimeout(() => s.resetAndDestroy(), 30);
  },
  shortContentLength: (): Behaviour => (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\nCache-Control: max-age=600\r\n\r\nonly-a-bit'),
  truncatedChunked: (): Behaviour => (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Control: max-age=600\r\n\r\n5\r\nhello\r\n'),
  garbageStatus: (): Behaviour => (s) => s.end('SPLAT this is not http\r\nCache-Control: max-age=600\r\n\r\n'),
  headerFlood: (n = 500): Behaviour => (s) => {
    const lines = Array.from({ length: n }, (_, i) => `X-Flood-${i}: ${i}`);
    respond(s, 'flood', ['Cache-Control: max-age=600', ...lines]);
  },
  never: (): Behaviour => () => undefined,
  unsolicited101: (): Behaviour => (s) => s.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nRAW-TUNNEL-BYTES'),
  infoFlood: (n = 2000): Behaviour => (s) => {
    let i = 0;
    const tick = () => {
      if (s.destroyed) return;
      if (i++ >= n) return respond(s, 'after-1xx', ['Cache-Control: max-age=600']);
      if (s.write('HTTP/1.1 102 Processing\r\n\r\n')) setImmediate(tick);
      else s.once('drain', tick);
    };
    tick();
  },
  clAndTe: (): Behaviour => (s) => s.write('HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
  duplicateContentLength: (): Behaviour => (s) => s.write('HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello!!'),
  badChunkSize: (): Behaviour => (s) => s.write('HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'),
};

export async function startRawOrigin(initial: Behaviour = faults.ok()): Promise<RawOrigin> {
  let behaviour = initial;
  const requests: ParsedRequest[] = [];
  const parseErrors: string[] = [];
  const incomplete: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((s) => {
    const index = connections++;
    sockets.add(s);
    let buf: Buffer = Buffer.alloc(0);
    s.on('close', () => {
      sockets.delete(s);
      const head = buf.indexOf('\r\n\r\n');
      if (head >= 0) incomplete.push(buf.subarray(0, buf.indexOf('\r\n')).toString('latin1'));
    });
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const r = parseRequest(buf);
        if ('need' in r) return;
        if ('error' in r) {
          parseErrors.push(r.error);
          buf = Buffer.alloc(0);
          s.destroy();
          return;
        }
        buf = buf.subarray(r.used);
        const req = { ...r.req, connection: index };
        requests.push(req);
        behaviour(s, req);
        if (buf.length === 0) return;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    parseErrors,
    incomplete,
    get connections() { return connections; },
    behave(b) { behaviour = b; },
    count: (path?: string) => requests.filter((r) => path === undefined || r.target.endsWith(path)).length,
    reset() { requests.length = 0; parseErrors.length = 0; incomplete.length = 0; },
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}
