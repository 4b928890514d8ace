/**
 * The cluster primary (--workers N, N > 1): forks N workers serving one port and runs what must exist
 * once — the admin listener, the collapse lock service, the restart supervisor.
 *
 * - Port: in `cluster` mode the primary holds the listening socket and hands connections to the workers
 *   round-robin (node:cluster's default on Linux); in `reuseport` mode each worker binds the port itself
 *   with SO_REUSEPORT and the kernel spreads connections. The first worker starts alone (it creates the
 *   store directory, the CA, and picks the port for --port 0); once it serves, startCluster resolves and
 *   the others start on the same port, taking connections as they come up ("worker ready" in the log).
 * - Restart: a worker that dies is forked again; one that dies young (< RESTART_RESET_MS) waits a doubling
 *   back-off (100 ms … 30 s), so a crash loop does not spin the machine.
 * - Signals: close() (the CLI calls it on SIGTERM/SIGINT) sends SIGTERM to every worker; each drains within
 *   shutdown-timeout; the primary waits for them and kills what is left at the bound. reopenLogs() (SIGHUP)
 *   is passed on to every worker.
 * - Admin: /metrics and /stats are summed over the workers (cluster-stats.ts); a purge is run by every
 *   worker (shared disk store + each one's memory tier) and reports the largest count.
 */
import cluster, { type Worker } from 'node:cluster';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { createDiagnostics } from '../log/diagnostics.js';
import { startAdmin, type AdminHandle } from '../admin/server.js';
import { formatStatsLine } from '../admin/summary.js';
import type { MetricsView, StatsSnapshot } from '../admin/metrics.js';
import { VERSION } from '../version.js';
import { CollapseLocks } from './cluster-collapse.js';
import { isLarderMessage, type PrimaryMessage, type WorkerMessage, type WorkerRequest, type WorkerMetrics, type WorkerStats } from './cluster-messages.js';
import { aggregateMetrics, mergeSnapshots } from './cluster-stats.js';
import { PORT_ENV } from './cluster-worker.js';

export const RESTART_MIN_MS = 100;
export const RESTART_MAX_MS = 30_000;
/** a worker that lived this long is not part of a crash loop: the back-off starts over */
export const RESTART_RESET_MS = 10_000;
/** how long the primary waits for a worker's answer to a purge / stats / metrics request */
const REQUEST_TIMEOUT_MS = 5_000;
/** added to shutdown-timeout: time for a worker to close its stores after its connections are cut */
const SHUTDOWN_GRACE_MS = 2_000;

export interface ClusterHandle {
  port: number;
  adminPort?: number;
  adminToken?: string;
  log: Logger;
  workers: number;
  close(): Promise<void>;
  reopenLogs(): void;
  /** --summary: print the merged one-line summary every intervalMs; returns the stop function */
  summary(out: NodeJS.WritableStream, intervalMs?: number): () => void;
}

interface WorkerState {
  worker: Worker;
  pid: number;
  startedAt: number;
  ready: boolean;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  workerId: number;
}

export interface ClusterOptions {
  workers: number;
  log?: Logger;
}

/** Doubling back-off for workers that die young; immediate restart after a long life. */
export class RestartBackoff {
  private consecutive = 0;

  constructor(private readonly minMs = RESTART_MIN_MS, private readonly maxMs = RESTART_MAX_MS, private readonly resetMs = RESTART_RESET_MS) {}

  /** delay before forking again, given how long the dead worker lived */
  next(livedMs: number): number {
    if (livedMs >= this.resetMs) { this.consecutive = 0; return 0; }
    const d = Math.min(this.maxMs, this.minMs * 2 ** this.consecutive);
    this.consecutive++;
    return d;
  }
}

export async function startCluster(config: Config, opts: ClusterOptions): Promise<ClusterHandle> {
  const log = opts.log ?? createDiagnostics(config.logLevel).child({ role: 'primary' });
  const startedAt = Date.now();
  const states = new Map<number, WorkerState>();
  const pending = new Map<number, Pending>();
  const backoff = new RestartBackoff();
  let nextRequest = 0;
  let stopping = false;
  let port = 0;
  const restartTimers = new Set<NodeJS.Timeout>();
  let restartTotal = 0;

  const registry = new Registry();
  new Gauge({
    name: 'larder_workers', help: 'Worker processes serving the port', registers: [registry],
    collect() { this.set([...states.values()].filter((s) => s.ready).length); },
  });
  const restarts = new Counter({ name: 'larder_worker_restarts_total', help: 'Workers forked again after one died', registers: [registry] });
  restarts.inc(0);

  const sendTo = (workerId: number, m: PrimaryMessage): void => {
    const s = states.get(workerId);
    if (s?.worker.isConnected()) {
      try { s.worker.send(m); } catch { /* it is going away: its exit handler cleans up */ }
    }
  };
  const locks = new CollapseLocks(sendTo, config.collapseTimeout);

  const request = (workerId: number, m: WorkerRequest): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++nextRequest;
      const timer = setTimeout(() => { pending.delete(id); reject(new Error(`worker ${workerId} did not answer`)); }, REQUEST_TIMEOUT_MS);
      timer.unref();
      pending.set(id, { resolve, reject, timer, workerId });
      sendTo(workerId, { lx: 'request', id, ...m });
    });
  /** ask every ready worker; the answers of those that replied */
  const askAll = async <T>(m: WorkerRequest): Promise<{ workerId: number; value: T }[]> => {
    const ids = [...states.values()].filter((s) => s.ready && s.worker.isConnected()).map((s) => s.worker.id);
    const settled = await Promise.allSettled(ids.map((id) => request(id, m)));
    const answers: { workerId: number; value: T }[] = [];
    settled.forEach((r, i) => {
      if (r.status === 'fulfilled') answers.push({ workerId: ids[i]!, value: r.value as T });
      else log.warn({ worker: ids[i], err: (r.reason as Error).message }, 'a worker did not answer');
    });
    return answers;
  };

  let firstOutcome: ((err?: Error) => void) | undefined;

  const onMessage = (worker: Worker, m: unknown): void => {
    if (!isLarderMessage<WorkerMessage>(m)) return;
    const s = states.get(worker.id);
    switch (m.lx) {
      case 'lead': case 'done':
        locks.onMessage(worker.id, m);
        return;
      case 'ready':
        if (!s) return;
        s.ready = true;
        if (port === 0) port = m.port;
        log.info({ worker: worker.id, pid: s.pid, port: m.port }, 'worker ready');
        firstOutcome?.();
        firstOutcome = undefined;
        return;
      case 'failed': {
        const err = Object.assign(new Error(m.message), { code: m.code });
        if (firstOutcome) { firstOutcome(err); firstOutcome = undefined; return; }
        log.error({ worker: worker.id, err: m.message }, 'worker failed to start');
        return;
      }
      case 'reply': {
        const p = pending.get(m.id);
        if (!p) return;
        pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.data);
      }
    }
  };

  let exitedAll: (() => void) | undefined;
  const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    const s = states.get(worker.id);
    if (!s) return;
    states.delete(worker.id);
    locks.workerGone(worker.id);
    for (const [id, p] of pending) {
      if (p.workerId !== worker.id) continue;
      pending.delete(id);
      clearTimeout(p.timer);
      p.reject(new Error(`worker ${worker.id} exited`));
    }
    if (stopping) {
      if (states.size === 0) exitedAll?.();
      return;
    }
    if (firstOutcome) {
      // the first worker died before it listened: that is a start-up failure, not a crash to retry
      firstOutcome(Object.assign(new Error(`worker exited during start-up (${signal ?? `code ${code}`})`), { code: 'LARDER_ERR_WORKER_START' }));
      firstOutcome = undefined;
      return;
    }
    const delay = backoff.next(Date.now() - s.startedAt);
    log.warn({ worker: worker.id, pid: s.pid, code, signal, restartInMs: delay }, 'worker exited; starting a new one');
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (stopping) return;
      restarts.inc();
      restartTotal++;
      fork();
    }, delay);
    restartTimers.add(timer);
  };

  const fork = (): Worker => {
    const env: Record<string, string> = {};
    // cluster mode: the primary's socket is shared by address and port as first asked (port 0 included),
    // so the workers ask for the same; reuseport: each binds on its own, so they need the actual port
    if (port !== 0 && config.workerMode === 'reuseport') env[PORT_ENV] = String(port);
    const worker = cluster.fork(env);
    states.set(worker.id, { worker, pid: worker.process.pid ?? 0, startedAt: Date.now(), ready: false });
    return worker;
  };

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  const detach = (): void => {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
  };

  // the first worker alone: it creates what the others then share, and a start-up error shows once
  const first = new Promise<Error | undefined>((resolve) => { firstOutcome = resolve; });
  fork();
  const err = await first;
  if (err) {
    detach();
    throw err;
  }
  // it serves already; the others start in the background and take connections as they come up
  for (let i = 1; i < opts.workers; i++) fork();

  const view = {
    registry: {
      contentType: registry.contentType,
      async metrics() {
        const parts = await askAll<WorkerMetrics>({ what: 'metrics' });
        return aggregateMetrics(parts.map((p) => p.value), await registry.getMetricsAsJSON()).metrics();
      },
    },
    async snapshot(): Promise<StatsSnapshot & { workers: unknown[] }> {
      const parts = await askAll<WorkerStats>({ what: 'stats' });
      const merged = mergeSnapshots(parts.map((p) => p.value));
      // per worker, to see how the load is spread
      return Object.assign(merged, {
        workers: parts.map((p) => ({
          id: p.workerId, pid: states.get(p.workerId)?.pid, requests: p.value.snapshot.totals.requests,
          byCache: p.value.snapshot.totals.byCache, collapsed: p.value.snapshot.totals.collapsed, connections: p.value.snapshot.connections,
        })),
      });
    },
  };
  const workerList = () => [...states.values()].map((s) => ({ id: s.worker.id, pid: s.pid, ready: s.ready, uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000) }));

  let admin: AdminHandle | undefined;
  if (config.adminPort !== 0) {
    admin = await startAdmin({
      config, metrics: view satisfies MetricsView, log,
      purge: async (target) => {
        const counts = await askAll<number>({ what: 'purge', target });
        if (counts.length === 0) throw new Error('no worker answered the purge');
        // every worker deleted from the shared disk store and its own memory: the largest count is the answer
        return Math.max(...counts.map((c) => c.value));
      },
      info: () => ({
        version: VERSION,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        config: {
          port, host: config.host, upstream: config.upstream ?? null, disk: config.disk,
          cacheDir: config.disk ? config.cacheDir : null, cacheSize: config.cacheSize, memorySize: config.memorySize,
          intercept: config.intercept, presets: config.preset, workers: opts.workers, workerMode: config.workerMode,
        },
        cluster: { primaryPid: process.pid, restarts: restartTotal, workers: workerList() },
      }),
    }).catch((e: NodeJS.ErrnoException) => {
      log.warn({ err: e.message }, `admin listener not started (${e.code ?? e.message}); metrics and purge API unavailable`);
      return undefined;
    });
  }
  let closing: Promise<void> | undefined;
  return {
    port,
    adminPort: admin?.port,
    adminToken: admin?.token,
    log,
    workers: opts.workers,
    reopenLogs() {
      for (const s of states.values()) s.worker.process.kill('SIGHUP');
    },
    summary(out, intervalMs = 5000) {
      const timer = setInterval(() => {
        view.snapshot().then((s) => { out.write(`${formatStatsLine(s)}\n`); }, () => undefined);
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        for (const t of restartTimers) clearTimeout(t);
        restartTimers.clear();
        if (states.size > 0) {
          const gone = new Promise<void>((resolve) => { exitedAll = resolve; });
          for (const s of states.values()) s.worker.process.kill('SIGTERM');
          const bound = setTimeout(() => {
            const left = [...states.values()];
            if (left.length > 0) log.warn({ workers: left.map((s) => s.pid) }, 'workers still running at the shutdown bound: killing them');
            for (const s of left) s.worker.process.kill('SIGKILL');
          }, config.shutdownTimeout + SHUTDOWN_GRACE_MS);
          bound.unref();
          await gone;
          clearTimeout(bound);
        }
        await admin?.close();
        detach();
      })();
      return closing;
    },
  };
}
