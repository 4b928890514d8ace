/**
 * The fast hit path's per-request work, behind the fast front (server/fast-front.ts): one look-up of the
 * route the slow path already took for the same Host and target, one look-up of the entry's attachment in
 * the memory tier, the cache's own freshness decision (`decideUse`, the function the slow path calls), then
 * Age, Via, Cache-Status and the connection fields after the prepared head, and one corked write.
 *
 * Nothing here decides anything the slow path did not: the engine attaches a `PlainHit` to an entry only
 * when it has just served it whole, fresh and unmodified (cache/engine.ts), the route comes from the router's
 * own result, and whatever changes the entry (store, update, invalidation, purge, eviction, here or in
 * another process) drops the attachment with it. Anything else goes to node:http and the slow path.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Store } from '../store/types.js';
import type { PlainHit } from '../cache/plain-hit.js';
import { decideUse, currentAge } from '../cache/policy.js';
import { formatCacheStatus } from '../http/cache-status.js';
import { formatHttpDate } from '../cache/http-date.js';
import { viaEntry } from '../http/via.js';
import type { AccessRecord, RequestObserver } from '../log/record.js';
import type { FastRequest } from '../server/fast-request.js';

/** A route the router computed for a Host and request target (forward or reverse mode). */
export interface KnownRoute {
  url: string;
  key: string;
  mode: 'forward' | 'reverse';
  /** destination host and port, for the destination rules that depend on the client (forward mode) */
  host: string;
  port: number;
}

const MAX_ROUTES = 65_536;

/**
 * Routes by (Host, target), remembered from the slow path. Routing is a function of those two strings and
 * the configuration alone, so the fast path reuses the router's answer instead of routing again. Bounded:
 * full, it starts over.
 */
export class RouteMemo {
  private readonly routes = new Map<string, KnownRoute>();

  remember(host: string | undefined, target: string, route: KnownRoute): void {
    if (host === undefined) return;
    if (this.routes.size >= MAX_ROUTES) this.routes.clear();
    this.routes.set(`${host}\n${target}`, route);
  }

  get(host: string, target: string): KnownRoute | undefined {
    return this.routes.get(`${host}\n${target}`);
  }
}

/** The wire form of a PlainHit, made on its first fast hit and kept on it. */
interface Wire {
  head: Buffer;
  via: string;
  cacheStatusBefore: string;
  detail?: string;
  hasDate: boolean;
  contentType?: string;
}
const wires = new WeakMap<PlainHit, Wire | null>();

function wireOf(hit: PlainHit, name: string): Wire | null {
  let w = wires.get(hit);
  if (w !== undefined) return w;
  const reason = STATUS_CODES[hit.entry.status];
  if (reason === undefined) {
    wires.set(hit, null);
    return null;
  }
  let head = `HTTP/1.1 ${hit.entry.status} ${reason}\r\n`;
  let hasDate = false;
  let contentType: string | undefined;
  const flat = hit.head.flat;
  for (let i = 0; i < flat.length; i += 2) {
    const n = flat[i]!;
    const lower = n.toLowerCase();
    if (lower === 'date') hasDate = true;
    else if (lower === 'content-type') contentType ??= flat[i + 1];
    head += `${n}: ${flat[i + 1]}\r\n`;
  }
  const ours = viaEntry('1.1', name);
  w = {
    head: Buffer.from(head, 'latin1'),
    via: hit.head.via ? `${hit.head.via}, ${ours}` : ours,
    cacheStatusBefore: hit.head.cacheStatus ? `${hit.head.cacheStatus}, ` : '',
    detail: hit.entry.policy.rule ? `rule:${hit.entry.policy.rule}` : undefined,
    hasDate,
    contentType,
  };
  wires.set(hit, w);
  return w;
}

export interface FastHitDeps {
  store: Store;
  routes: RouteMemo;
  /** pseudonym in Via and Cache-Status */
  name: string;
  keepAliveSeconds: number;
  /** forward mode: may this client reach this destination (the destination rules); undefined = yes */
  checkDestination?: (host: string, port: number, clientAddress: string | undefined) => string | undefined;
  /**
   * Route a request the slow path has not seen yet (Host and target): the router's own answer, with the
   * destination rules, or undefined when the router would refuse it. Remembered in `routes`.
   */
  route?: (req: FastRequest, socket: Socket) => KnownRoute | undefined;
  /** forward requests must authenticate: they never take the fast path */
  forwardNeedsAuth: boolean;
  observers: readonly RequestObserver[];
  clock?: () => number;
  /** responses the fast path sent (plain number: metrics read it at scrape time) */
  counters?: { served: number };
}

const NO_REQUEST_FIELDS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The fast front's `serve`: answers a fresh plain hit and reports it like any other request, else false. */
export function createFastHit(deps: FastHitDeps): (socket: Socket, req: FastRequest) => boolean {
  const clock = deps.clock ?? Date.now;
  const attachedSync = deps.store.attachedSync?.bind(deps.store);
  if (attachedSync === undefined) return () => false;
  const keepAlive = `Connection: keep-alive\r\nKeep-Alive: timeout=${deps.keepAliveSeconds}\r\n\r\n`;
  const close = 'Connection: close\r\n\r\n';
  let dateSecond = -1;
  let dateLine = '';
  // The destination rules' verdict depends on the destination and the client only (static rules on literal
  // hosts): kept per connection and route, bounded per connection.
  const verdicts = new WeakMap<Socket, Map<KnownRoute, boolean>>();
  const destinationAllowed = (socket: Socket, route: KnownRoute): boolean => {
    if (!deps.checkDestination) return true;
    let seen = verdicts.get(socket);
    if (seen === undefined) verdicts.set(socket, (seen = new Map()));
    let ok = seen.get(route);
    if (ok === undefined) {
      if (seen.size >= 256) seen.clear();
      ok = deps.checkDestination(route.host, route.port, socket.remoteAddress) === undefined;
      seen.set(route, ok);
    }
    return ok;
  };
  return (socket, req) => {
    let route = deps.routes.get(req.host, req.target);
    if (route === undefined) {
      route = deps.route?.(req, socket);
      if (route === undefined) return false;
      deps.routes.remember(req.host, req.target, route);
    }
    if (route.mode === 'forward') {
      if (deps.forwardNeedsAuth || !destinationAllowed(socket, route)) return false;
    }
    const attached = attachedSync(route.key);
    if (attached === undefined) return false;
    const hit = attached.value as PlainHit;
    const body = attached.body;
    const now = clock();
    const d = decideUse(hit.entry.policy, NO_REQUEST_FIELDS, now);
    if (d.action !== 'serve' || d.stale) return false;
    const w = wireOf(hit, deps.name);
    if (w === null) return false;
    const age = currentAge(hit.entry.policy, now);
    const cacheStatus = w.cacheStatusBefore + formatCacheStatus(deps.name, { hit: true, ttl: hit.entry.policy.freshnessLifetime - age, detail: w.detail });
    let tail = `Age: ${age}\r\nVia: ${w.via}\r\nCache-Status: ${cacheStatus}\r\n`;
    if (!w.hasDate) {
      const second = Math.floor(now / 1000);
      if (second !== dateSecond) { dateSecond = second; dateLine = `Date: ${formatHttpDate(second * 1000)}\r\n`; }
      tail += dateLine;
    }
    tail += req.close ? close : keepAlive;
    const withBody = req.method === 'GET';
    socket.cork();
    socket.write(w.head);
    socket.write(tail, 'latin1');
    if (withBody && body.length > 0) socket.write(body);
    process.nextTick(uncork, socket);
    if (deps.counters) deps.counters.served++;
    if (deps.observers.length > 0) {
      const rec: AccessRecord = {
        startTime: now,
        durationMs: 0,
        clientAddress: socket.remoteAddress ?? '-',
        clientPort: socket.remotePort,
        method: req.method,
        url: route.url,
        httpVersion: '1.1',
        status: hit.entry.status,
        bytesSent: withBody ? body.length : 0,
        bytesReceived: 0,
        cache: 'hit',
        cacheStatus,
        rule: hit.entry.policy.rule,
        contentType: w.contentType,
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
