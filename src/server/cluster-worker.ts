/**
 * One cluster worker: a whole larder (listener, engine, memory tier over the shared disk store) without
 * the admin listener, which runs once in the primary. It answers the primary's requests (purge, stats,
 * metrics) over IPC and collapses misses through the primary's lock service.
 *
 * Signals: SIGTERM / SIGINT drain and exit 0 (bounded by shutdown-timeout); SIGHUP reopens the access
 * log. Losing the primary (its channel closes) drains and exits too: no orphan keeps the port.
 */
import cluster from 'node:cluster';
import type { Config } from '../config/load.js';
import { createDiagnostics } from '../log/diagnostics.js';
import { ClusterCollapser } from './cluster-collapse.js';
import { isLarderMessage, type PrimaryMessage, type WorkerMessage, type WorkerRequest, type WorkerStats } from './cluster-messages.js';
import type { Logger } from 'pino';

/** What a worker uses of a started larder (app.ts's Larder); the CLI hands in startLarder. */
export interface WorkerLarder {
  port: number;
  log: Logger;
  engine: { purge(target: Extract<WorkerRequest, { what: 'purge' }>['target']): Promise<unknown> };
  metrics: {
    registry: { getMetricsAsJSON(): Promise<unknown> };
    snapshot(): WorkerStats['snapshot'];
    latencySamples(): WorkerStats['samples'];
    uncaughtError(kind: 'exception' | 'rejection'): void;
  };
  close(): Promise<void>;
  reopenLogs(): void;
}

export type StartWorkerLarder = (config: Config, opts: { log: Logger; noAdmin: true; collapser?: ClusterCollapser; reusePort: boolean }) => Promise<WorkerLarder>;

/** Set by the primary on every worker after the first: the port the first one bound (for --port 0). */
export const PORT_ENV = 'LARDER_CLUSTER_PORT';

function send(m: WorkerMessage): void {
  if (process.connected) {
    try { process.send!(m); } catch { /* primary gone */ }
  }
}

export async function runWorker(config: Config, startLarder: StartWorkerLarder): Promise<number> {
  const fixedPort = Number(process.env[PORT_ENV]);
  if (Number.isInteger(fixedPort) && fixedPort > 0) config = { ...config, port: fixedPort };
  const log = createDiagnostics(config.logLevel).child({ worker: cluster.worker?.id });
  // Followers read the leader's response from the shared disk store. Without one (--no-disk) each
  // worker has only its own memory, so a cross-worker follower would wait and then fetch anyway.
  const collapser = config.disk && config.cache
    ? new ClusterCollapser({ send, get connected() { return process.connected; } }, config.collapseTimeout)
    : undefined;
  const onMessage = (m: unknown): void => {
    if (isLarderMessage<PrimaryMessage>(m)) {
      if (m.lx === 'request') void answer(m);
      else collapser?.onMessage(m);
    }
  };
  process.on('message', onMessage);

  let larder: WorkerLarder;
  try {
    larder = await startLarder(config, { log, noAdmin: true, collapser, reusePort: config.workerMode === 'reuseport' });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    send({ lx: 'failed', message: e.message ?? String(e), code: e.code });
    process.off('message', onMessage);
    return 1;
  }
  const { installLastResort } = await import('./last-resort.js');
  installLastResort({
    log: larder.log, count: (kind) => larder.metrics.uncaughtError(kind),
    shutdown: () => larder.close(), graceMs: config.shutdownTimeout,
  });

  async function answer(m: Extract<PrimaryMessage, { lx: 'request' }>): Promise<void> {
    try {
      let data: unknown;
      if (m.what === 'purge') data = await larder.engine.purge(m.target);
      else if (m.what === 'metrics') data = await larder.metrics.registry.getMetricsAsJSON();
      else data = { snapshot: larder.metrics.snapshot(), samples: larder.metrics.latencySamples() } satisfies WorkerStats;
      send({ lx: 'reply', id: m.id, data });
    } catch (err) {
      send({ lx: 'reply', id: m.id, error: (err as Error)?.message ?? String(err) });
    }
  }

  process.on('SIGHUP', () => {
    larder.reopenLogs();
    larder.log.info({ file: config.accessLog }, 'access log reopened');
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      larder.log.info({ signal: why }, 'worker shutting down: finishing in-flight requests');
      larder.close().then(() => resolve(0), (err) => { larder.log.error({ err }, 'error during shutdown'); resolve(1); });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('disconnect', () => stop('primary gone'));
    send({ lx: 'ready', port: larder.port });
  });
}
