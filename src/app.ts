/**
 * The composition root: builds every stage from the Config and starts the listeners.
 * `startLarder(config)` is what the CLI runs and what the integration tests start on loopback.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import { createListener, listeningServer, shutdown } from './server/listener.js';
import { createFastHit, RouteMemo, type KnownRoute } from './proxy/fast-hit.js';
import type { FastRequest } from './server/fast-request.js';
import type { Socket } from 'node:net';
import type { AccessRecord } from './log/record.js';
import { createRequestHandler, newRecord } from './proxy/handler.js';
import { Router } from './proxy/router.js';
import { CacheEngine } from './cache/engine.js';
import { Collapser } from './cache/collapse.js';
import type { KeyCollapser } from './cache/collapse.js';
import { compileRules } from './cache/rules.js';
import { UpstreamClient } from './upstream/client.js';
import { upstreamPort } from './proxy/upstream-port.js';
import { upstreamCaList, describeTlsError } from './tls/trust.js';
import type { Store } from './store/types.js';
import { ClientAccess } from './server/access.js';
import { ProxyAuth } from './server/auth.js';
import { RateLimiter } from './server/rate-limit.js';
import { Admission } from './server/admission.js';
import { ConnectionLimits } from './server/connection-limits.js';
import { DestinationPolicy } from './proxy/destination.js';
import { boundedLookup, type HostLookup } from './net/resolve.js';
import { handleConnect } from './proxy/tunnel.js';
import { Interceptor, interceptTargetOf } from './tls/intercept.js';
import { Metrics } from './admin/metrics.js';
import { startAdmin, type AdminHandle } from './admin/server.js';
import { createAccessLog, type AccessLog } from './log/access-log.js';
import { createDiagnostics } from './log/diagnostics.js';
import { formatCacheStatus } from './http/cache-status.js';
import { ALLOWED_METHODS } from './http/methods.js';
import { rawErrorResponse } from './proxy/errors.js';
import type { RequestObserver } from './log/record.js';
import { VERSION } from './version.js';

export interface Larder {
  port: number;
  adminPort?: number;
  adminToken?: string;
  store: Store;
  metrics: Metrics;
  engine: CacheEngine;
  log: Logger;
  /** graceful: stop accepting, let in-flight requests finish (bounded), close stores and logs */
  /** responses answered by the fast hit path */
  fastPath: { readonly served: number };
  close(): Promise<void>;
  reopenLogs(): void;
}

export interface StartOptions {
  log?: Logger;
  /** extra observers (tests) */
  observers?: RequestObserver[];
  /** a store to use instead of opening one from the config (tests, embedding) */
  store?: Store;
  /** start the admin listener on an ephemeral port even when config.adminPort is 0 (tests) */
  adminEphemeral?: boolean;
  /** never start the admin listener (cluster workers: the primary runs it) */
  noAdmin?: boolean;
  /** request collapsing across processes (cluster workers); default: within this process */
  collapser?: KeyCollapser;
  /** bind the port with SO_REUSEPORT, own socket per process (--worker-mode reuseport; Node >= 22.12) */
  reusePort?: boolean;
  /** the resolver under the bounded lookup, instead of getaddrinfo (tests: a name server that never answers) */
  hostLookup?: HostLookup;
  /** the cache engine's clock (tests move time with it instead of sleeping) */
  clock?: () => number;
}

export async function startLarder(config: Config, opts: StartOptions = {}): Promise<Larder> {
  const log = opts.log ?? createDiagnostics(config.logLevel);
  const startedAt = Date.now();
  const store: Store = opts.store ?? await (await import('./store/open.js')).openStore({
    memorySize: config.memorySize, maxObjectSize: config.maxObjectSize, disk: config.disk,
    cacheDir: config.cacheDir, cacheSize: config.cacheSize, eviction: config.eviction,
    onWriteError: (message) => log.warn(message),
  });
  const storeStats = () => (store.tierStats ? store.tierStats() : [store.stats()]);
  const metrics = new Metrics({
    storeStats,
    // counted as plain numbers where they happen, read at scrape time
    plainCounters: [
      { name: 'larder_connections_refused_total', help: 'Client connections refused by the connection caps, by reason', labels: { name: 'reason' }, read: () => ({ total: limits.refused.total, per_client: limits.refused.perClient }) },
      { name: 'larder_auth_limiter_evictions_total', help: 'Addresses dropped from the authentication failure limiter to keep it bounded', read: () => auth?.limiter?.evictions ?? 0 },
      { name: 'larder_tls_handshake_failures_total', help: 'TLS handshakes with clients that failed (interception)', read: () => interceptor?.handshakeFailures ?? 0 },
      { name: 'larder_collapse_refused_total', help: 'Misses not collapsed because the collapser held its maximum of flights', read: () => (collapser instanceof Collapser ? collapser.refusedAtMax : 0) },
      { name: 'larder_store_slow_commits_total', help: 'Stored bodies whose last chunk went out before the commit finished (read-your-writes not kept)', read: () => engine.counters.slowCommits },
      { name: 'larder_fills_abandoned_total', help: 'Store fills given up after their client left (quick abort)', read: () => engine.counters.fillsAbandoned },
      { name: 'larder_fast_path_responses_total', help: 'Responses answered by the fast hit path', read: () => fastPath.served },
    ],
  });
  const accessLog: AccessLog = createAccessLog({ format: config.logFormat, file: config.accessLog, log });
  let listenPort = config.port;
  let adminPort: number | undefined;
  // every name larder resolves (undici's connections, CONNECT) is bounded by connect-timeout
  const resolveHost = boundedLookup({ timeoutMs: config.connectTimeout, ...(opts.hostLookup ? { lookup: opts.hostLookup } : {}) });
  const destination = new DestinationPolicy({
    denyHosts: config.denyHosts, denyCidrs: config.denyCidrs, connectPorts: config.connectPorts,
    allowLocalhostDestinations: config.allowLocalhostDestinations,
    ownPorts: () => ({ proxy: listenPort, admin: adminPort }),
    exemptHosts: config.upstream ? [new URL(config.upstream).hostname] : [],
    resolve: resolveHost,
  });
  const upstream = new UpstreamClient({
    connectTimeout: config.connectTimeout,
    upstreamTimeout: config.upstreamTimeout,
    idleTimeout: config.idleTimeout,
    connections: config.upstreamConnections,
    maxResponseHeaders: config.maxResponseHeaders,
    ca: config.upstreamCa ? upstreamCaList(config.upstreamCa) : undefined,
    lookup: destination.lookup,
    describeTlsError,
  });
  const rules = compileRules(config.preset, config.rules);
  const collapser = opts.collapser ?? new Collapser(config.collapseTimeout);
  const engine = new CacheEngine({
    config, store, upstream: upstreamPort(upstream), rules, clock: opts.clock, collapser,
    events: {
      collapsed: () => metrics.collapsed(),
      revalidation: (o) => metrics.revalidation(o),
      upstreamError: (k) => metrics.upstreamError(k),
      offline: (url, age) => log.warn({ url, age }, 'origin unreachable: serving stale entry within the offline grace'),
      slowCommit: () => log.debug('store commit slower than the read-your-writes wait: last chunk delivered before it'),
    },
  });
  const access = new ClientAccess({ allow: config.allow, allowAll: config.allowAll });
  const auth = config.authFile
    ? new ProxyAuth({ file: config.authFile, realm: config.authRealm, limiter: new RateLimiter({ max: 10, windowMs: 60_000 }) })
    : undefined;
  const admission = new Admission({
    access, auth,
    // --auth-file without --allow: authentication is the access rule, for clients on any address
    authIsAccessRule: auth !== undefined && config.allow.length === 0,
    onDenied: (reason) => metrics.denied(reason),
    onAuthFailure: () => metrics.authFailure(),
  });
  const limits = new ConnectionLimits({ maxTotal: config.maxConnections, maxPerClient: config.maxConnectionsPerClient });
  const observers: RequestObserver[] = [accessLog, metrics, ...(opts.observers ?? [])];

  const router = new Router({ config, listenPort: () => listenPort, interceptTargetOf });
  const routes = config.fastPath && config.cache ? new RouteMemo() : undefined;
  const fastPath = { served: 0 };
  const onRequest = createRequestHandler({
    config, router, engine, admission, destination, observers, routes,
    onDenied: (reason) => metrics.denied(reason),
    onInternalError: (err) => log.error({ err }, 'internal error while handling a request'),
  });

  let interceptor: Interceptor | undefined;
  const connectDeps = {
    config,
    // the rules that need no lookup (own listeners, loopback for remote clients)
    checkDestination: async (host: string, port: number, clientAddress?: string) => destination.checkTarget(host, port, clientAddress),
    // the rules and the one lookup of the CONNECT; the tunnel connects to the address returned
    resolveDestination: (host: string, port: number) => destination.resolveForConnect(host, port),
    onRecord: (r: import('./log/record.js').AccessRecord) => { for (const o of observers) o.onRequest(r); },
    onTunnel: (d: 1 | -1) => metrics.tunnel(d),
    lookup: destination.lookup as import('node:net').LookupFunction,
    get interceptor() { return interceptor; },
  };
  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const addr = req.socket.remoteAddress;
    const cacheStatus = formatCacheStatus(config.via, { fwd: 'bypass', detail: 'connect' });
    const refuse = (status: number, reason: string, extra: [string, string][] = []) => {
      // (the listener gave the socket its 'error' listener before handing it over)
      if (!socket.destroyed) {
        socket.end(rawErrorResponse(status, reason, req.url, cacheStatus, extra));
        setTimeout(() => socket.destroy(), 1000).unref();
      }
      // refused CONNECTs are logged like any other request
      const rec = newRecord(req);
      Object.assign(rec, { url: req.url ?? '-', status, cache: 'error', cacheStatus, durationMs: Date.now() - rec.startTime });
      for (const o of observers) o.onRequest(rec);
    };
    const client = admission.client(addr);
    if (!client.ok) return refuse(client.status, client.reason, client.headers);
    if (!config.forward) {
      // a reverse proxy in front of one origin is no tunnel to anywhere else
      return refuse(405, 'CONNECT is not served here: forward proxying is disabled (--no-forward)', [['Allow', ALLOWED_METHODS]]);
    }
    if (!admission.authenticates) return handleConnect(req, socket, head, connectDeps);
    void admission.authenticate(client, req.headers['proxy-authorization'], addr ?? '-').then((v) => {
      if (v.ok) return handleConnect(req, socket, head, connectDeps);
      refuse(v.status, v.reason, v.headers);
    }, () => refuse(500, 'internal proxy error'));
  };

  const server = createListener({
    config, onRequest, onConnect,
    admit: (s) => limits.admit(s),
    onConnection: (d) => metrics.connection(d),
    fast: routes && {
      allowed: (s) => access.isAllowed(s.remoteAddress),
      serve: createFastHit({
        store, routes, name: config.via, keepAliveSeconds: Math.floor(config.keepAliveTimeout / 1000),
        checkDestination: (host, port, client) => destination.checkTarget(host, port, client),
        forwardNeedsAuth: admission.authenticates, observers, counters: fastPath, clock: engine.clock,
        route: (req, socket) => routeForFastPath(router, destination, engine, req, socket),
      }),
    },
  });
  if (config.intercept) {
    // the x509 modules (and reflect-metadata) are loaded only when interception is on: ~6 MB RSS otherwise
    await import('reflect-metadata');
    const { loadOrCreateCa } = await import('./tls/ca.js');
    const { LeafMinter } = await import('./tls/mint.js');
    const ca = await loadOrCreateCa(config.caDir);
    interceptor = new Interceptor({
      minter: new LeafMinter(ca), hosts: config.interceptHosts, skip: config.interceptSkip, server, log,
    });
  }

  await new Promise<void>((resolve, reject) => {
    const listening = listeningServer(server);
    listening.once('error', reject);
    const onListening = () => { listening.off('error', reject); resolve(); };
    if (opts.reusePort) listening.listen({ port: config.port, host: config.host, exclusive: true, reusePort: true } as import('node:net').ListenOptions, onListening);
    else listening.listen(config.port, config.host, onListening);
  });
  listenPort = (listeningServer(server).address() as AddressInfo).port;

  let admin: AdminHandle | undefined;
  if (!opts.noAdmin && (config.adminPort !== 0 || opts.adminEphemeral)) {
    admin = await startAdmin({
      config: opts.adminEphemeral ? { ...config, adminPort: 0 } : config, metrics, log,
      purge: (t) => engine.purge(t),
      info: () => ({
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        config: {
          port: listenPort, host: config.host, upstream: config.upstream ?? null, disk: config.disk,
          cacheDir: config.disk ? config.cacheDir : null, cacheSize: config.cacheSize, memorySize: config.memorySize,
          intercept: config.intercept, presets: config.preset,
        },
      }),
    }).catch((err: NodeJS.ErrnoException) => {
      log.warn({ err: err.message }, `admin listener not started (${err.code ?? err.message}); metrics and purge API unavailable`);
      return undefined;
    });
    adminPort = admin?.port;
  }

  let closing: Promise<void> | undefined;
  return {
    port: listenPort,
    adminPort: admin?.port,
    adminToken: admin?.token,
    store, metrics, engine, log, fastPath,
    reopenLogs: () => accessLog.reopen(),
    close() {
      closing ??= (async () => {
        await shutdown(server, config.shutdownTimeout);
        await admin?.close();
        await upstream.close(0); // after the listener's bounded drain nothing may keep an upstream request alive
        await store.close();
        await accessLog.close();
      })();
      return closing;
    },
  };
}

/**
 * The route of a plain GET/HEAD the fast path has not seen: the router's own answer for the same request
 * line and Host (so the fast path never routes differently), then the destination rules as the handler
 * applies them. Undefined when either would refuse it: node:http and the slow path answer it then.
 */
function routeForFastPath(router: Router, destination: DestinationPolicy, engine: CacheEngine, req: FastRequest, socket: Socket): KnownRoute | undefined {
  const incoming = {
    method: req.method, url: req.target, httpVersion: '1.1', socket,
    headers: { host: req.host }, rawHeaders: ['Host', req.host],
  } as unknown as IncomingMessage;
  let ex;
  try {
    ex = router.route(incoming, undefined as never, { url: '' } as AccessRecord);
  } catch {
    return undefined;
  }
  if (ex.mode !== 'forward' && ex.mode !== 'reverse') return undefined;
  const host = ex.target.hostname.replace(/^\[|\]$/g, '');
  const port = Number(ex.target.port || (ex.target.protocol === 'https:' ? 443 : 80));
  if (destination.checkTarget(host, port, socket.remoteAddress, { configuredUpstream: ex.mode === 'reverse' }) !== undefined) return undefined;
  return { url: ex.resourceUrl, key: engine.keyOf(ex.resourceUrl), mode: ex.mode, host, port };
}
