/**
 * The admin listener (default 127.0.0.1:3129): metrics, stats, purge, health, dashboard.
 *
 * Token policy:
 * - config.adminToken set: required on every route but /healthz and the static code (Authorization:
 *   Bearer T; ?token=T also accepted for the dashboard page);
 * - not set and the listener is not on loopback: a random token is generated and returned in the handle
 *   (the caller prints it once at start), then required as above;
 * - not set, loopback listener: no token, but the Host header must name a loopback address (DNS rebinding).
 *
 * Callers skip startAdmin when config.adminPort is 0 (admin off); given 0 here it binds an ephemeral port.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { createAdminHandler } from './api.js';
import { isLoopbackHost } from '../net/host.js';
import type { MetricsView } from './metrics.js';
import { loadDashboardAssets } from './static.js';

export interface AdminHandle {
  port: number;
  /** set only when the token was generated here (print it once); a configured token is never echoed */
  token?: string;
  close(): Promise<void>;
}

export interface AdminOptions {
  config: Pick<Config, 'adminHost' | 'adminPort' | 'adminToken'>;
  metrics: MetricsView;
  purge: (target: { url?: string; prefix?: string }) => Promise<number>;
  info: () => Record<string, unknown>;
  log: Logger;
}

/** The token the listener requires (undefined: none), and whether it was generated here. */
export function adminTokenFor(config: Pick<Config, 'adminHost' | 'adminToken'>): { token?: string; generated: boolean } {
  if (config.adminToken !== undefined && config.adminToken !== '') return { token: config.adminToken, generated: false };
  if (isLoopbackHost(config.adminHost)) return { generated: false };
  return { token: randomBytes(24).toString('base64url'), generated: true };
}

export async function startAdmin(opts: AdminOptions): Promise<AdminHandle> {
  const { adminHost, adminPort } = opts.config;
  const { token, generated } = adminTokenFor(opts.config);
  const handler = createAdminHandler({
    token,
    listenHost: adminHost,
    metrics: opts.metrics,
    purge: opts.purge,
    info: opts.info,
    log: opts.log,
    assets: loadDashboardAssets(),
  });

  const server = createServer({ maxHeaderSize: 16 * 1024, headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000 }, handler);
  server.maxConnections = 256;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const message = `admin listener ${adminHost}:${adminPort}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.code ?? err.message}`;
      reject(Object.assign(new Error(message), { code: err.code }));
    };
    server.once('error', onError);
    server.listen({ host: adminHost, port: adminPort }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => opts.log.error({ err: err.message }, 'admin listener error'));
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ host: adminHost, port, token: generated ? 'generated' : token ? 'configured' : 'none' }, 'admin listener started');

  let closing: Promise<void> | undefined;
  return {
    port,
    token: generated ? token : undefined,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
