/**
 * --summary: one line every few seconds on a stream (stderr by default in the CLI), for a quick look
 * without the dashboard:  "larder: 12.4 req/s · hit 63.2% · byte hit 71.0% · saved 1.2GiB"
 */
import type { Metrics, StatsSnapshot } from './metrics.js';
import { formatBytes } from '../config/units.js';

/** The --summary line for one stats snapshot. */
export function formatStatsLine(s: StatsSnapshot): string {
  const pct = (r: number | null): string => (r === null ? '-' : `${(r * 100).toFixed(1)}%`);
  const rps = s.rates.requestsPerSecond;
  return `larder: ${rps >= 100 ? Math.round(rps) : rps.toFixed(1)} req/s · hit ${pct(s.rates.hitRatio)} · ` +
    `byte hit ${pct(s.rates.byteHitRatio)} · saved ${formatBytes(s.bytesSaved)} · ${s.totals.requests} requests`;
}

/** Print a summary line every intervalMs; returns the function that stops it. */
export function startSummary(metrics: Metrics, out: NodeJS.WritableStream, intervalMs = 5000): () => void {
  const timer = setInterval(() => {
    out.write(`${formatStatsLine(metrics.snapshot())}\n`);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
