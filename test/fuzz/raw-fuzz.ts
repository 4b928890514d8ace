/**
 * Raw-socket fuzz run against a real larder (the CLI as a child process, so a crash is observable):
 * random and mutated requests (byte flips, truncation, duplicated/swapped lines, injected framing
 * headers, random methods and versions, stray CR/LF/NUL) built from a corpus of valid forward and
 * reverse requests, some aimed at origin faults (/fault-NAME: resets, garbage, header flood, 101, ...). After every batch the proxy must still be alive and serve a well-formed request in
 * both modes, and the origin (a strict parser) must never have received an ambiguous message.
 *
 *   npm run fuzz                       2,000 iterations or 60 s, whichever comes first
 *   FUZZ_ITERATIONS=20000 FUZZ_SECONDS=300 FUZZ_SEED=42 npm run fuzz
 *
 * Bounded: iterations are capped at 100,000 and time at 600 s. Not part of `npm test`.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRawOrigin, respond, faults, type Behaviour } from '../helpers/raw-origin.js';
import { exchange } from '../security/support.js';
import { startCli } from '../security/cli-process.js';

const ITERATIONS = Math.min(100_000, Math.max(1, Number(process.env.FUZZ_ITERATIONS ?? 2000)));
const SECONDS = Math.min(600, Math.max(1, Number(process.env.FUZZ_SECONDS ?? 60)));
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const BATCH = 50;
const CONCURRENCY = 32;
/** how long one input's connection is watched (keep-alive connections are still open at the end) */
const PER_REQUEST_MS = 600;

/** mulberry32: small seeded PRNG so a failing run can be replayed with FUZZ_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

/** Origin misbehaviours, chosen by the request path (/fault-NAME); everything else gets a cacheable 200. */
const FAULTS: Record<string, Behaviour> = {
  reset: faults.resetMidBody(), short: faults.shortContentLength(), truncated: faults.truncatedChunked(),
  garbage: faults.garbageStatus(), flood: faults.headerFlood(300), never: faults.never(), upgrade: faults.unsolicited101(),
  info: faults.infoFlood(50), clte: faults.clAndTe(), dupcl: faults.duplicateContentLength(), badchunk: faults.badChunkSize(),
};
function originBehaviour(): Behaviour {
  return (s, req) => {
    const f = /\/fault-([a-z]+)/.exec(req.target)?.[1];
    const fault = f ? FAULTS[f] : undefined;
    if (fault) return fault(s, req);
    respond(s, 'ok', req.target.includes('/after-') ? [] : ['Cache-Control: max-age=60', 'ETag: "v1"']);
  };
}

function corpus(originHost: string): string[] {
  const out: string[] = [];
  for (const [t, h] of [[`http://${originHost}`, originHost], ['', 'site.example']] as const) {
    out.push(
      `GET ${t}/a HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
      `GET ${t}/b?x=1&y=2 HTTP/1.1\r\nHost: ${h}\r\nAccept: */*\r\nCache-Control: max-age=0\r\n\r\n`,
      `HEAD ${t}/c HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`,
      `GET ${t}/d HTTP/1.0\r\nHost: ${h}\r\n\r\n`,
      `GET ${t}/e HTTP/1.1\r\nHost: ${h}\r\nRange: bytes=0-1\r\nIf-None-Match: "x"\r\n\r\n`,
      `POST ${t}/f HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello`,
      `POST ${t}/g HTTP/1.1\r\nHost: ${h}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n`,
      `PUT ${t}/h HTTP/1.1\r\nHost: ${h}\r\nContent-Length: 0\r\n\r\n`,
      `DELETE ${t}/i HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
      `GET ${t}/j HTTP/1.1\r\nHost: ${h}\r\n\r\nGET ${t}/k HTTP/1.1\r\nHost: ${h}\r\n\r\n`,
      ...Object.keys(FAULTS).map((f) => `GET ${t}/fault-${f} HTTP/1.1\r\nHost: ${h}\r\n\r\n`),
    );
  }
  out.push('OPTIONS * HTTP/1.1\r\nHost: site.example\r\n\r\n', `CONNECT ${originHost} HTTP/1.1\r\nHost: ${originHost}\r\n\r\n`,
    `PURGE http://${originHost}/a HTTP/1.1\r\nHost: ${originHost}\r\n\r\n`, `TRACE http://${originHost}/ HTTP/1.1\r\nHost: ${originHost}\r\nMax-Forwards: 0\r\n\r\n`);
  return out;
}

const INJECT = [
  'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip', 'Transfer-Encoding:  xchunked',
  'Content-Length: 0', 'Content-Length: 7', 'Content-Length: -1', 'Content-Length: 99999999999999999999', 'Content-Length: 1, 2',
  'Host: evil.example', 'Connection: close', 'Connection: keep-alive, Upgrade', 'Upgrade: websocket', 'Expect: 100-continue',
  'X-Forwarded-Host: evil.example', 'Via: 1.1 larder', 'Max-Forwards: 0', 'Cache-Control: only-if-cached', 'Range: bytes=-0',
  'Range: bytes=5-1,0-', 'If-Modified-Since: garbage', 'Authorization: Basic AAAA', 'Cookie: a=b', 'Proxy-Authorization: Basic x',
  `X-Long: ${'z'.repeat(9000)}`, 'Accept-Encoding: gzip, br;q=0', 'Vary: *', ' folded: value', 'Bad Name: v', 'X-Nul: a\0b',
];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PATCH', 'PURGE', 'PRI', 'G ET', 'get', 'GET\t', '', 'X'.repeat(100)];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/9.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1', 'HTTP/1.1\0', ''];
const STRAY = ['\r', '\n', '\0', ' ', '\t', '\r\n', '\r\n\r\n', ':', '\x7f', '\xff'];

function mutate(input: string): string {
  let s = input;
  const n = 1 + int(3);
  for (let k = 0; k < n; k++) {
    const lines = s.split('\r\n');
    switch (int(10)) {
      case 0: { // byte flip
        if (!s.length) break;
        const i = int(s.length);
        s = s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << int(8))) + s.slice(i + 1);
        break;
      }
      case 1: s = s.slice(0, int(s.length + 1)); break; // truncation
      case 2: { // duplicate a line
        const i = int(lines.length);
        lines.splice(i, 0, lines[i]!);
        s = lines.join('\r\n');
        break;
      }
      case 3: { // swap two lines
        const i = int(lines.length), j = int(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        s = lines.join('\r\n');
        break;
      }
      case 4: { // inject a header after the request line
        lines.splice(1 + int(Math.max(1, lines.length - 2)), 0, pick(INJECT));
        s = lines.join('\r\n');
        break;
      }
      case 5: { // random method
        const sp = s.indexOf(' ');
        s = pick(METHODS) + (sp >= 0 ? s.slice(sp) : ' / HTTP/1.1\r\n\r\n');
        break;
      }
      case 6: { // random version
        const first = lines[0]!.split(' ');
        first[first.length - 1] = pick(VERSIONS);
        lines[0] = first.join(' ');
        s = lines.join('\r\n');
        break;
      }
      case 7: { // stray control bytes
        const i = int(s.length + 1);
        s = s.slice(0, i) + pick(STRAY) + s.slice(i);
        break;
      }
      case 8: s = s + s.slice(int(s.length)); break; // repeat a tail (pipelining/duplication)
      default: { // random bytes
        const i = int(s.length + 1);
        s = s.slice(0, i) + Array.from({ length: 1 + int(8) }, () => String.fromCharCode(int(256))).join('') + s.slice(i);
      }
    }
  }
  return s;
}

async function main(): Promise<number> {
  const origin = await startRawOrigin(originBehaviour());
  const { child, port } = await startCli(['--upstream', origin.url, '--headers-timeout', '2s', '--max-header-size', '16KB', '--upstream-timeout', '1s', '--idle-timeout', '1s']);
  let crashed: string | undefined;
  child.once('exit', (code, signal) => { crashed = `larder exited (code ${code}, signal ${signal})`; });
  const seeds = corpus(origin.host);
  const statuses = new Map<string, number>();
  let sent = 0;
  let timeouts = 0;
  let failure: string | undefined;
  const started = Date.now();
  const recent: string[] = [];

  const check = async (): Promise<string | undefined> => {
    if (crashed) return crashed;
    for (const [target, host] of [[`http://${origin.host}`, origin.host], ['', 'site.example']] as const) {
      const path = `/after-${sent}-${host.length}`;
      const r = await exchange(port, `GET ${target}${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, 3000);
      if (r.status !== 200 || !r.text.endsWith('ok')) return `a well-formed ${target ? 'forward' : 'reverse'} request was not served after ${sent} inputs: ${JSON.stringify(r.text.slice(0, 200))}`;
    }
    if (origin.parseErrors.length > 0) return `the origin received an ambiguous message: ${origin.parseErrors.join('; ')}`;
    return undefined;
  };

  while (sent < ITERATIONS && Date.now() - started < SECONDS * 1000 && !failure) {
    const batch = Array.from({ length: Math.min(BATCH, ITERATIONS - sent) }, () => (rand() < 0.1 ? Array.from({ length: int(200) }, () => String.fromCharCode(int(256))).join('') : mutate(pick(seeds))));
    recent.splice(0, recent.length, ...batch);
    for (let i = 0; i < batch.length; i += CONCURRENCY) {
      const results = await Promise.all(batch.slice(i, i + CONCURRENCY).map((input) => exchange(port, Buffer.from(input, 'latin1'), PER_REQUEST_MS)));
      for (const r of results) {
        const key = r.status ? String(r.status) : r.closed ? 'closed' : 'open';
        if (!r.closed) timeouts++;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }
    sent += batch.length;
    failure = await check();
  }

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const hist = [...statuses.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}:${v}`).join(' ');
  process.stdout.write(`raw-fuzz: seed ${SEED}, ${sent} inputs in ${secs} s, origin saw ${origin.requests.length} requests, ${origin.parseErrors.length} ambiguous\n`);
  process.stdout.write(`raw-fuzz: outcomes ${hist} — connections still open after ${PER_REQUEST_MS} ms (keep-alive, or waiting for a body): ${timeouts}\n`);
  if (failure) {
    const file = join(tmpdir(), `larder-fuzz-${SEED}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(recent, null, 1));
    process.stdout.write(`raw-fuzz: FAILED: ${failure}\nraw-fuzz: the last batch is in ${file} (replay with FUZZ_SEED=${SEED})\n`);
  } else {
    process.stdout.write('raw-fuzz: OK: larder stayed up and kept serving after every batch\n');
  }
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode === null) child.kill('SIGKILL');
  await origin.close();
  return failure ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`raw-fuzz: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
