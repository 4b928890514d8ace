/**
 * The composition root: builds every stage from the Config and starts the listeners.
 * `startLarder(config)` is what the CLI runs and what the integration tests start on loopback.
 */
import 'reflect-metadata';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from './config/load.js';
import { createListener, shutdown } from './server/listener.js';
import { createRequestHandler, newRecord } from './proxy/handler.js';
import { Router } from './proxy/router.js';
import { CacheEngine } from './cache/engine.js';
import { compileRules } from './cache/rules.js';
import { UpstreamClient } from './upstream/client.js';
import { upstreamPort } from './proxy/upstream-port.js';
import { upstreamCaList, describeTlsError } from './tls/trust.js';
import type { Store } from './store/types.js';
import { ClientAccess } from './server/access.js';
import { ProxyAuth } from './server/auth.js';
import { RateLimiter } from './server/rate-limit.js';
import { ConnectionLimits } from './server/connection-limits.js';
import { DestinationPolicy, DestinationDeniedError } from './proxy/destination.js';
import { handleConnect } from './proxy/tunnel.js';
import { Interceptor, interceptTargetOf } from './tls/intercept.js';
import { loadOrCreateCa } from './tls/ca.js';
import { LeafMinter } from './tls/mint.js';
import { Metrics } from './admin/metrics.js';
import { startAdmin, type AdminHandle } from './admin/server.js';
import { createAccessLog, type AccessLog } from './log/access-log.js';
import { createDiagnostics } from './log/diagnostics.js';
import { formatCacheStatus } from './cache/status.js';
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
  /** the cache engine's clock (tests move time with it instead of sleeping) */
  clock?: () => number;
}

export async function startLarder(config: Config, opts: StartOptions = {}): Promise<Larder> {
  const log = opts.log ?? createDiagnostics(config.logLevel);
  const startedAt = Date.now();
  const store: Store = opts.store ?? await (await import('./store/open.js')).openStore({
    memorySize: config.memorySize, maxObjectSize: config.maxObjectSize, disk: config.disk,
    cacheDir: config.cacheDir, cacheSize: config.cacheSize, eviction: config.eviction,
  });
  const storeStats = () => (store.tierStats ? store.tierStats() : [store.stats()]);
  const metrics = new Metrics({ storeStats });
  const accessLog: AccessLog = createAccessLog({ format: config.logFormat, file: config.accessLog, log });
  const destination = new DestinationPolicy({ denyHosts: config.denyHosts, denyCidrs: config.denyCidrs, connectPorts: config.connectPorts });
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
  const engine = new CacheEngine({
    config, store, upstream: upstreamPort(upstream), rules, clock: opts.clock,
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
  const limits = new ConnectionLimits({ maxTotal: config.maxConnections, maxPerClient: config.maxConnectionsPerClient });
  const observers: RequestObserver[] = [accessLog, metrics, ...(opts.observers ?? [])];

  let listenPort = config.port;
  const router = new Router({ config, listenPort: () => listenPort, interceptTargetOf });
  const onRequest = createRequestHandler({
    config, router, engine, access, auth, destination, observers,
    onAuthFailure: () => metrics.authFailure(),
    onDenied: (reason) => metrics.denied(reason),
    onInternalError: (err) => log.error({ err }, 'internal error while handling a request'),
  });

  let interceptor: Interceptor | undefined;
  const connectDeps = {
    config,
    checkDestination: async (host: string, port: number) => {
      try {
        await destination.resolveForConnect(host, port);
        return undefined;
      } catch (e) {
        // only a denial refuses here (403); a DNS failure is left to the tunnel, which answers 502
        return e instanceof DestinationDeniedError ? e.message : undefined;
      }
    },
    onRecord: (r: import('./log/record.js').AccessRecord) => { for (const o of observers) o.onRequest(r); },
    onTunnel: (d: 1 | -1) => metrics.tunnel(d),
    lookup: destination.lookup as import('node:net').LookupFunction,
    get interceptor() { return interceptor; },
  };
  const onConnect = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const addr = req.socket.remoteAddress;
    const cacheStatus = formatCacheStatus(config.via, { fwd: 'bypass', detail: 'connect' });
    const refuse = (status: number, reason: string, extra: [string, string][] = []) => {
      socket.end(rawErrorResponse(status, reason, req.url, cacheStatus, extra));
      setTimeout(() => socket.destroy(), 1000).unref();
      // refused CONNECTs are logged like any other request
      const rec = newRecord(req);
      Object.assign(rec, { url: req.url ?? '-', status, cache: 'error', cacheStatus, durationMs: Date.now() - rec.startTime });
      for (const o of observers) o.onRequest(rec);
    };
    if (!access.isAllowed(addr)) {
      metrics.denied('client');
      return refuse(403, `client ${addr} is not allowed to use this proxy`);
    }
    if (!config.forward) {
      // a reverse proxy in front of one origin is no tunnel to anywhere else
      return refuse(405, 'CONNECT is not served here: forward proxying is disabled (--no-forward)', [['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE']]);
    }
    if (!auth) return handleConnect(req, socket, head, connectDeps);
    void auth.check(req.headers['proxy-authorization'], addr ?? '-').then((a) => {
      if (a.result === 'ok') return handleConnect(req, socket, head, connectDeps);
      if (a.result !== 'missing') metrics.authFailure();
      if (a.result === 'limited') return refuse(429, 'too many failed authentication attempts from this address');
      refuse(407, 'proxy authentication required', [['Proxy-Authenticate', auth.challenge()]]);
    }, () => refuse(500, 'internal proxy error'));
  };

  const server = createListener({
    config, onRequest, onConnect,
    admit: (s) => limits.admit(s),
    onConnection: (d) => metrics.connection(d),
  });
  if (config.intercept) {
    const ca = await loadOrCreateCa(config.caDir);
    interceptor = new Interceptor({
      minter: new LeafMinter(ca), hosts: config.interceptHosts, skip: config.interceptSkip, server, log,
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => { server.off('error', reject); resolve(); });
  });
  listenPort = (server.address() as AddressInfo).port;

  let admin: AdminHandle | undefined;
  if (config.adminPort !== 0 || opts.adminEphemeral) {
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
  }

  let closing: Promise<void> | undefined;
  return {
    port: listenPort,
    adminPort: admin?.port,
    adminToken: admin?.token,
    store, metrics, engine, log,
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
