/**
 * Runs conformance cases through a real larder, in forward mode (absolute-form requests naming the origin)
 * or reverse mode (`upstream` set, origin-form requests). One origin serves every case; each case has its
 * own path, so cases run concurrently without sharing cache entries. Every request carries `x-step: <n>`
 * so the origin knows which step's response to send and which step it saw.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { startTestLarder, type TestLarder } from '../helpers/larder.js';
import { startOrigin, type TestOrigin } from '../helpers/origin.js';
import { formatHttpDate } from '../../src/cache/http-date.js';
import type { Config } from '../../src/config/load.js';
import type { Case, CaseResult, HeaderList, Step, Value } from './types.js';

export type Mode = 'forward' | 'reverse';

interface Seen { step: number; method: string; headers: http.IncomingHttpHeaders }
interface Running { c: Case; mode: Mode; base: string; steps: Step[]; seen: Seen[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const runStart = Date.now();
const runId = randomUUID();
/** cases run at once per mode */
const CONCURRENT = 96;

const DAYS_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function formatDate(ms: number, format: 'imf' | 'rfc850' | 'asctime' = 'imf'): string {
  const imf = formatHttpDate(ms);
  if (format === 'imf') return imf;
  const d = new Date(ms);
  const [, dd, mon, yyyy, time] = imf.split(' ');
  if (format === 'rfc850') return `${DAYS_LONG[d.getUTCDay()]}, ${dd}-${mon}-${yyyy!.slice(2)} ${time} GMT`;
  return `${imf.slice(0, 3)} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${time} ${yyyy}`;
}

function materialise(v: Value, base: string): string {
  if (typeof v === 'string') return v.replaceAll('{base}', base);
  if ('fromNow' in v) return formatHttpDate(Date.now() + v.fromNow * 1000);
  return formatDate(Math.floor(runStart / 1000) * 1000 - v.ago * 1000, v.format);
}

/** Steps with the origin-response fields inherited from the previous step where absent. */
function resolveSteps(steps: Step[]): Step[] {
  const out: Step[] = [];
  let prev: Step | undefined;
  for (const s of steps) {
    const r: Step = { ...s };
    if (prev) {
      if (r.status === undefined && r.responseHeaders === undefined) r.status = prev.status;
      if (r.responseHeaders === undefined) r.responseHeaders = prev.responseHeaders;
      if (r.body === undefined && prev.body !== undefined && s.responseHeaders === undefined) r.body = prev.body;
    }
    out.push(r);
    prev = r;
  }
  return out;
}

const VALIDATED = new Set(['validated', 'etag_validated', 'lm_validated']);

function header(list: HeaderList | undefined, name: string, base: string): string | undefined {
  const hit = list?.find(([n]) => n.toLowerCase() === name);
  return hit ? materialise(hit[1], base) : undefined;
}

/** Would an origin holding this step's response answer the request with 304? */
function conditionalMatches(req: IncomingMessage, step: Step, base: string): boolean {
  const inm = req.headers['if-none-match'];
  const etag = header(step.responseHeaders, 'etag', base);
  if (inm !== undefined) {
    if (etag === undefined) return false;
    const strip = (t: string) => t.trim().replace(/^W\//, '');
    return inm.split(',').some((t) => t.trim() === '*' || strip(t) === strip(etag));
  }
  const ims = req.headers['if-modified-since'];
  const lm = header(step.responseHeaders, 'last-modified', base);
  if (ims !== undefined && lm !== undefined) {
    const a = Date.parse(ims);
    const b = Date.parse(lm);
    return Number.isFinite(a) && Number.isFinite(b) && b <= a;
  }
  return false;
}

function bodyOf(r: Running, i: number, step: Step): string | null {
  if (step.body === null) return null;
  return step.body ?? `${r.mode}:${r.c.id}#${i}`;
}

export interface Harness {
  run(cases: Case[], mode: Mode): Promise<CaseResult[]>;
  close(): Promise<void>;
}

/** Starts the origin and one larder per mode. */
export async function startHarness(overrides: Partial<Config> = {}): Promise<Harness> {
  const running = new Map<string, Running>();
  const origin: TestOrigin = await startOrigin((req, res) => answer(req, res));
  const larders: Record<Mode, TestLarder> = {
    forward: await startTestLarder({ maxConnectionsPerClient: 100_000, maxConnections: 100_000, upstreamConnections: 64, ...overrides }),
    reverse: await startTestLarder({ upstream: origin.url, maxConnectionsPerClient: 100_000, maxConnections: 100_000, upstreamConnections: 64, ...overrides }),
  };

  function answer(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url!, 'http://x').pathname;
    const key = path.split('/').slice(0, 5).join('/');
    const r = running.get(key);
    const i = Number(req.headers['x-step']);
    if (!r || !Number.isInteger(i) || !r.steps[i]) { res.writeHead(404, { 'content-length': '0' }); res.end(); return; }
    r.seen.push({ step: i, method: req.method!, headers: req.headers });
    const step = r.steps[i]!;
    if (step.disconnect) { req.socket.destroy(); return; }
    let status = step.status ?? 200;
    const wants304 = step.answer304 || (step.expect !== undefined && VALIDATED.has(step.expect));
    if (wants304 && conditionalMatches(req, step, r.base)) status = 304;
    if (step.noDate) res.sendDate = false;
    const flat: string[] = [];
    for (const [n, v] of step.responseHeaders ?? []) flat.push(n, materialise(v, r.base));
    const body = bodyOf(r, i, step);
    const withBody = body !== null && req.method !== 'HEAD' && status !== 204 && status !== 304;
    const framed = (name: string) => flat.some((n, k) => k % 2 === 0 && n.toLowerCase() === name);
    if (withBody && !framed('content-length') && !framed('transfer-encoding')) flat.push('Content-Length', String(Buffer.byteLength(body)));
    res.writeHead(status, flat);
    res.end(withBody ? body : undefined);
  }

  function send(r: Running, i: number, step: Step): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    const larder = larders[r.mode];
    const pathAndQuery = `${r.base}${step.path ?? ''}${step.query ?? ''}`;
    const target = r.mode === 'forward' ? `${origin.url}${pathAndQuery}` : pathAndQuery;
    const headers: Record<string, string | string[]> = { 'x-step': String(i) };
    if (r.mode === 'forward') headers.host = origin.host;
    for (const [n, v] of step.requestHeaders ?? []) {
      const name = n.toLowerCase();
      const value = materialise(v, r.base);
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    // node:http frames a body itself only for methods that usually have one: a DELETE's would go unframed
    // (not a body by RFC 9112 §6.3, but stray bytes after the request)
    if (step.requestBody !== undefined && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) {
      headers['content-length'] = String(Buffer.byteLength(step.requestBody));
    }
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: larder.port, method: step.method ?? 'GET', path: target, headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
        res.on('error', reject);
      });
      // a hang detector, not a latency bound: with ~190 exchanges in flight a step takes 0.2-1 s on 2 cores at
      // load 8, ten times that at load 20 (10 s failed there once); a request that really hangs still fails
      req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
      req.on('error', reject);
      req.end(step.requestBody);
    });
  }

  async function runCase(c: Case, mode: Mode): Promise<CaseResult> {
    // a run id in every path: the URLs are 63+ chars like real ones (format 1 of the disk store failed those)
    const base = `/conf/${mode[0]}/${runId}/${c.id}`;
    const r: Running = { c, mode, base, steps: resolveSteps(c.steps), seen: [] };
    running.set(base, r);
    const problems: string[] = [];
    try {
      for (let i = 0; i < r.steps.length; i++) {
        const step = r.steps[i]!;
        if (step.pause) await sleep(step.pause * 1000);
        let res;
        try {
          res = await send(r, i, step);
        } catch (err) {
          problems.push(`step ${i}: request failed: ${(err as Error).message}`);
          break;
        }
        const seenNow = r.seen.filter((s) => s.step === i);
        problems.push(...check(r, i, step, res, seenNow).map((p) => `step ${i}: ${p}`));
      }
    } finally {
      running.delete(base);
    }
    return { id: c.id, group: c.group, kind: c.kind, passed: problems.length === 0, problems, ...(c.skipReason ? { skipped: c.skipReason } : {}) };
  }

  return {
    async run(cases, mode) {
      // at most CONCURRENT cases at once: a burst of hundreds of new upstream connections overflowed the origin's
      // accept backlog on a loaded machine (SYN retries: requests without an answer for 10 s)
      const todo = cases.filter((c) => c.onlyIn === undefined || c.onlyIn === mode);
      const out: CaseResult[] = new Array(todo.length);
      let next = 0;
      const worker = async () => {
        while (next < todo.length) {
          const i = next++;
          out[i] = await runCase(todo[i]!, mode);
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENT, todo.length) }, worker));
      return out;
    },
    async close() {
      await larders.forward.stop();
      await larders.reverse.stop();
      await origin.close();
    },
  };
}

function matches(actual: string | string[] | undefined, want: string | RegExp | true): boolean {
  if (actual === undefined) return false;
  const v = Array.isArray(actual) ? actual.join(', ') : actual;
  if (want === true) return true;
  if (typeof want === 'string') return v === want;
  return want.test(v);
}

function check(r: Running, i: number, step: Step, res: { status: number; headers: http.IncomingHttpHeaders; body: string }, seen: Seen[]): string[] {
  const out: string[] = [];
  const prefix = `${r.mode}:${r.c.id}#`;
  const bodyStep = res.body.startsWith(prefix) ? Number(res.body.slice(prefix.length)) : undefined;
  const cs = res.headers['cache-status'];
  const ctx = `(status ${res.status}, origin saw ${seen.length}, cache-status "${cs ?? ''}")`;
  const conditional = seen.some((s) => s.headers['if-none-match'] !== undefined || s.headers['if-modified-since'] !== undefined);
  switch (step.expect) {
    case 'cached':
      if (bodyStep !== undefined ? bodyStep >= i : false) out.push(`expected a cached response, got the body of step ${bodyStep} ${ctx}`);
      if (!step.allowBackground && seen.length > 0) out.push(`expected a cached response, but the origin was contacted ${ctx}`);
      break;
    case 'not_cached':
      if (seen.length === 0) out.push(`expected the origin to be contacted, but it was not ${ctx}`);
      else if (bodyStep !== undefined && bodyStep !== i) out.push(`expected the body of step ${i}, got that of step ${bodyStep} ${ctx}`);
      break;
    case 'validated':
    case 'etag_validated':
    case 'lm_validated': {
      const field = step.expect === 'etag_validated' ? 'if-none-match' : step.expect === 'lm_validated' ? 'if-modified-since' : undefined;
      const ok = field ? seen.some((s) => s.headers[field] !== undefined) : conditional;
      if (!ok) out.push(`expected a conditional request${field ? ` with ${field}` : ''} to the origin ${ctx}`);
      break;
    }
  }
  if (step.expectStatus !== undefined && res.status !== step.expectStatus) out.push(`expected status ${step.expectStatus}, got ${res.status} ${ctx}`);
  for (const [name, want] of step.expectHeaders ?? []) {
    const got = res.headers[name.toLowerCase()];
    if (!matches(got, want)) out.push(`expected response header ${name}: ${want === true ? '(present)' : String(want)}, got ${got === undefined ? '(absent)' : JSON.stringify(got)}`);
  }
  for (const name of step.expectHeadersMissing ?? []) {
    const got = res.headers[name.toLowerCase()];
    if (got !== undefined) out.push(`expected no response header ${name}, got ${JSON.stringify(got)}`);
  }
  const wantBody = step.expectBody?.replaceAll('{mode}', r.mode);
  if (wantBody !== undefined && res.body !== wantBody) out.push(`expected body ${JSON.stringify(wantBody)}, got ${JSON.stringify(res.body.slice(0, 80))}`);
  if (step.expectRequestHeaders || step.expectRequestHeadersMissing) {
    const s = seen[0];
    if (!s) out.push('expected the origin to see the request, it did not');
    else {
      for (const [name, want] of step.expectRequestHeaders ?? []) {
        const got = s.headers[name.toLowerCase()];
        if (!matches(got, want)) out.push(`expected the origin to see ${name}: ${want === true ? '(present)' : String(want)}, got ${got === undefined ? '(absent)' : JSON.stringify(got)}`);
      }
      for (const name of step.expectRequestHeadersMissing ?? []) {
        const got = s.headers[name.toLowerCase()];
        if (got !== undefined) out.push(`expected the origin not to see ${name}, got ${JSON.stringify(got)}`);
      }
    }
  }
  return out;
}
