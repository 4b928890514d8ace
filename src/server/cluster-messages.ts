/**
 * The IPC messages between the cluster primary and its workers (over node:cluster's channel).
 * Every message carries `lx` (larder), so it is never confused with prom-client's or node's own.
 */
import type { StatsSnapshot } from '../admin/metrics.js';
import type { Registry } from 'prom-client';

/** worker → primary */
export type WorkerMessage =
  | { lx: 'ready'; port: number }
  | { lx: 'failed'; message: string; code?: string }
  /** may this worker fetch `key` for everyone? answered by 'granted' or 'busy' with the same id */
  | { lx: 'lead'; id: number; key: string }
  /** the flight granted under `id` ended; `stored`: followers can read the shared store */
  | { lx: 'done'; id: number; key: string; stored: boolean }
  | { lx: 'reply'; id: number; data?: unknown; error?: string };

/** primary → worker */
export type PrimaryMessage =
  | { lx: 'granted'; id: number }
  | { lx: 'busy'; id: number }
  /** the flight this worker was told is busy ended */
  | { lx: 'flight-done'; key: string; stored: boolean }
  | ({ lx: 'request'; id: number } & WorkerRequest);

/** what the primary asks a worker to do or report */
export type WorkerRequest =
  | { what: 'purge'; target: { url?: string; prefix?: string } }
  | { what: 'stats' | 'metrics' };

export interface WorkerStats {
  snapshot: StatsSnapshot;
  samples: { requestMs: number[]; upstreamMs: number[] };
}

/** one worker's registry, as getMetricsAsJSON() gives it */
export type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export function isLarderMessage<T extends { lx: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { lx?: unknown }).lx === 'string';
}
