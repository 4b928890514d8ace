/**
 * Prepared hits: the bytes of stored responses that a plain GET/HEAD can be answered with as they are,
 * made ready once (status line and stored fields with Content-Length), and the per-request work of the
 * fast front: one key look-up, the cache's own freshness decision (`decideUse`, the same function the
 * slow path calls), then Age, Via, Cache-Status and the connection fields appended, and one corked write.
 *
 * An entry is prepared only when the slow path has just served it whole and unmodified (no Vary, no
 * field stripped, body in memory), so the fast path never decides anything the slow path did not.
 * Any change to a key (store, update, invalidation, purge, here or in another process) drops it here.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { EntryMeta, StoredPolicy } from '../store/types.js';
import { decideUse, currentAge } from '../cache/policy.js';
import { formatCacheStatus } from '../cache/status.js';
import { formatHttpDate } from '../cache/http-date.js';
import type { AccessRecord, RequestObserver } from '../log/record.js';
import type { FastRequest } from '../server/fast-request.js';

export interface PreparedHit {
  key: string;
  status: number;
  policy: StoredPolicy;
  /** status line and stored fields, Content-Length included; each line ends in CRLF */
  head: Buffer;
  body: Buffer;
  /** the Via value sent: the upstream's entries, then ours */
  via: string;
  /** upstream Cache-Status entries, followed by ", " (or empty) */
  cacheStatusBefore: string;
  /** Cache-Status detail (the refresh rule that set freshness) */
  detail?: string;
  rule?: string;
  contentType?: string;
  /** the stored fields carry Date (node:http adds one otherwise, and so do we) */
  hasDate: boolean;
}

export interface PrepareInput {
  meta: EntryMeta;
  body: Buffer;
  /** the ready head: stored fields less framing/Via/Cache-Status, Content-Length appended, flat */
  flat: string[];
  upstreamVia?: string;
  upstreamCacheStatus?: string;
  /** our own Via entry ("1.1 larder") */
  viaEntry: string;
}

const NO_REQUEST_FIELDS = Object.freeze({}) as Record<string, string>;

export class PreparedHits {
  private readonly entries: LRUCache<string, PreparedHit>;

  constructor(maxBytes: number) {
    this.entries = new LRUCache<string, PreparedHit>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (e) => e.head.length + e.body.length + 256,
    });
  }

  prepare(input: PrepareInput): void {
    const { meta } = input;
    if (meta.vary.length > 0 || meta.status === 204 || meta.status === 304 || meta.status === 206) return;
    const reason = STATUS_CODES[meta.status];
    if (reason === undefined) return;
    let head = `HTTP/1.1 ${meta.status} ${reason}\r\n`;
    let hasDate = false;
    let contentType: string | undefined;
    for (let i = 0; i < input.flat.length; i += 2) {
      const name = input.flat[i]!;
      const lower = name.toLowerCase();
      if (lower === 'date') hasDate = true;
      else if (lower === 'content-type') contentType ??= input.flat[i + 1];
      head += `${name}: ${input.flat[i + 1]}\r\n`;
    }
    const rule = meta.policy.rule;
    this.entries.set(meta.key, {
      key: meta.key,
      status: meta.status,
      policy: meta.policy,
      head: Buffer.from(head, 'latin1'),
      body: input.body,
      via: input.upstreamVia ? `${input.upstreamVia}, ${input.viaEntry}` : input.viaEntry,
      cacheStatusBefore: input.upstreamCacheStatus ? `${input.upstreamCacheStatus}, ` : '',
      detail: rule ? `rule:${rule}` : undefined,
      rule,
      contentType,
      hasDate,
    });
  }

  /** The prepared hit for `key` when it may be served fresh now, as the cache policy decides. */
  get(key: string, now: number): PreparedHit | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    const d = decideUse(e.policy, NO_REQUEST_FIELDS, now);
    if (d.action !== 'serve' || d.stale) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deletePrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface FastHitDeps {
  hits: PreparedHits;
  /** pseudonym in Cache-Status */
  name: string;
  keepAliveSeconds: number;
  /** the cache key of a request target and Host, or undefined when the slow path must route it */
  keyOf: (req: FastRequest) => { key: string; url: string } | undefined;
  observers: readonly RequestObserver[];
  clock?: () => number;
}

/** The fast front's `serve`: answers a plain hit and reports it like any other request, else false. */
export function createFastHit(deps: FastHitDeps): (socket: Socket, req: FastRequest) => boolean {
  const clock = deps.clock ?? Date.now;
  const keepAlive = `Connection: keep-alive\r\nKeep-Alive: timeout=${deps.keepAliveSeconds}\r\n\r\n`;
  const close = 'Connection: close\r\n\r\n';
  let dateSecond = -1;
  let dateLine = '';
  return (socket, req) => {
    const target = deps.keyOf(req);
    if (target === undefined) return false;
    const now = clock();
    const hit = deps.hits.get(target.key, now);
    if (hit === undefined) return false;
    const age = currentAge(hit.policy, now);
    const cacheStatus = hit.cacheStatusBefore + formatCacheStatus(deps.name, { hit: true, ttl: hit.policy.freshnessLifetime - age, detail: hit.detail });
    let tail = `Age: ${age}\r\nVia: ${hit.via}\r\nCache-Status: ${cacheStatus}\r\n`;
    if (!hit.hasDate) {
      const second = Math.floor(now / 1000);
      if (second !== dateSecond) { dateSecond = second; dateLine = `Date: ${formatHttpDate(second * 1000)}\r\n`; }
      tail += dateLine;
    }
    tail += req.close ? close : keepAlive;
    const withBody = req.method === 'GET';
    socket.cork();
    socket.write(hit.head);
    socket.write(tail, 'latin1');
    if (withBody) socket.write(hit.body);
    process.nextTick(uncork, socket);
    if (deps.observers.length > 0) {
      const rec: AccessRecord = {
        startTime: now,
        durationMs: 0,
        clientAddress: socket.remoteAddress ?? '-',
        clientPort: socket.remotePort,
        method: req.method,
        url: target.url,
        httpVersion: '1.1',
        status: hit.status,
        bytesSent: withBody ? hit.body.length : 0,
        bytesReceived: 0,
        cache: 'hit',
        cacheStatus,
        rule: hit.rule,
        contentType: hit.contentType,
        referer: req.referer,
        userAgent: req.userAgent,
      };
      for (const o of deps.observers) {
        try { o.onRequest(rec); } catch { /* an observer never breaks serving */ }
      }
    }
    return true;
  };
}

function uncork(socket: Socket): void {
  socket.uncork();
}
