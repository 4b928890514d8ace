/**
 * The cache engine with no socket, for tests: a memory store, a scripted upstream and an injected clock.
 * Time moves by setting the clock; `ask` runs one request and plays the deliverer's part (reads the body,
 * feeds and commits the store fill).
 */
import { Readable } from 'node:stream';
import { CacheEngine } from '../../src/cache/engine.js';
import type { CacheRequest, Outcome, UpstreamPort, UpstreamReply, UpstreamRequest } from '../../src/cache/request.js';
import { UpstreamFailure } from '../../src/errors.js';
import { MemoryStore } from '../../src/store/memory.js';
import { makeConfig } from '../../src/config/load.js';
import { formatHttpDate } from '../../src/cache/http-date.js';

export type Script = (req: UpstreamRequest, now: number) => { status: number; headers?: Record<string, string>; body?: string } | UpstreamFailure;

export function scriptedEngine(script: Script, overrides: Parameters<typeof makeConfig>[0] = {}) {
  let now = Date.UTC(2026, 0, 1, 12, 0, 0);
  const sent: UpstreamRequest[] = [];
  const upstream: UpstreamPort = {
    async request(req) {
      sent.push(req);
      const r = script(req, now);
      if (r instanceof UpstreamFailure) throw r;
      const headers: Record<string, string> = { date: formatHttpDate(now), ...r.headers };
      const body = r.body ?? '';
      if (r.status !== 304 && r.status !== 204) headers['content-length'] = String(Buffer.byteLength(body));
      const reply: UpstreamReply = { status: r.status, headers, pairs: Object.entries(headers), body: Readable.from(body ? [Buffer.from(body)] : []), address: 'origin:80' };
      return reply;
    },
    classify: (err) => new UpstreamFailure('failed', String(err), 'upstream-error'),
  };
  const config = makeConfig({ offlineGrace: 3_600_000, ...overrides });
  const store = new MemoryStore({ budget: 10_000_000, maxObjectSize: 1_000_000 });
  const engine = new CacheEngine({ config, store, upstream, clock: () => now });
  const request = (headers: Record<string, string> = {}, method = 'GET'): CacheRequest => ({
    method, target: new URL('http://origin/x'), resourceUrl: 'http://origin/x', headers, upstreamHeaders: Object.entries(headers).flat(), body: null,
    mode: 'forward', httpVersion: '1.1', notes: {},
  });
  return {
    sent, store,
    advance: (ms: number) => { now += ms; },
    /** run one request through the engine and play the deliverer's part: read the whole body */
    async ask(headers: Record<string, string> = {}, method = 'GET'): Promise<{ out: Outcome; status: number; body: string; header: (n: string) => string | undefined }> {
      const out = await engine.handle(request(headers, method));
      let status = 0;
      let body = '';
      let flat: string[] = [];
      if (out.kind === 'stored') {
        status = out.status; flat = out.headers;
        if (out.body) body = Buffer.isBuffer(out.body) ? out.body.toString() : (await Buffer.concat(await out.body.toArray())).toString();
      } else if (out.kind === 'upstream') {
        status = out.reply.status; flat = out.headers;
        for await (const c of out.reply.body) { await out.fill?.write(c as Buffer); body += String(c); }
        if (out.fill) await out.fill.commit();
        await out.fill?.settled;
        out.settle({});
      }
      const header = (n: string) => { for (let i = 0; i < flat.length; i += 2) if (flat[i]!.toLowerCase() === n) return flat[i + 1]; return undefined; };
      return { out, status, body, header };
    },
  };
}
